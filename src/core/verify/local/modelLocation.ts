/** Finds the shipped local verifier model, from the bundle and from sources alike. */

import * as fs from 'node:fs';
import * as path from 'node:path';

/** File name of the shipped model; the build copies models/local-verifier/*.onnx next to dist/extension.js. */
export const MODEL_FILE = 'local-verifier.onnx';

/** Where the model was found, or every place that was looked at. */
export type ModelLocation = { found: true; file: string } | { found: false; searched: string[] };

/**
 * Locates the model: `explicit` when given (only there), else next to the running bundle, else in the
 * repository's models/local-verifier folder (a run from sources), found from this file and from the working folder.
 */
export function modelLocation(explicit?: string): ModelLocation {
  const candidates = explicit !== undefined ? [path.resolve(explicit)] : defaultPlaces();
  const file = candidates.find((candidate) => fs.existsSync(candidate));
  return file !== undefined ? { found: true, file } : { found: false, searched: candidates };
}

function defaultPlaces(): string[] {
  const places: string[] = [];
  // typeof never throws on an undeclared name, and __dirname does not exist in native ES modules.
  if (typeof __dirname === 'string') {
    places.push(path.join(__dirname, MODEL_FILE));
    places.push(path.resolve(__dirname, '..', '..', '..', '..', 'models', 'local-verifier', MODEL_FILE));
  }
  places.push(path.resolve(process.cwd(), 'models', 'local-verifier', MODEL_FILE));
  return [...new Set(places)];
}
