import type * as vscode from 'vscode';
import { Controller } from './controller.js';

/** Builds the extension's heavy part on the first command; loaded lazily by extension.ts. */
export function createController(context: vscode.ExtensionContext): Controller {
  return new Controller(context);
}
