import { executeBash } from './executeBash.js';
import { fileEditor } from './fileEditor.js';
import { finish } from './finish.js';
import { search } from './search.js';
import type { Tool } from './tool.js';

/** The R2E-Gym scaffold's four tools, unchanged so that models trained on it work as they are. */
export const defaultTools: readonly Tool[] = [fileEditor, executeBash, search, finish];
