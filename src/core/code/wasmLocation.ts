/** Finds the tree-sitter runtime and grammar .wasm files, from sources and from the bundle alike. */

import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { AgentError, ErrorReason } from '../errors.js';

/** Where the tree-sitter runtime and the grammar files were found. */
export interface WasmLocation {
  /** Absolute path of web-tree-sitter.wasm. */
  readonly runtimeFile: string;
  /** Folder holding the tree-sitter-<language>.wasm grammar files. */
  readonly grammarDir: string;
}

const RUNTIME_FILE = 'web-tree-sitter.wasm';

/**
 * Locates the .wasm files: the explicit `wasmDir` first, then the folder of the running bundle
 * (the build copies every .wasm file next to dist/cli.js and dist/extension.js), then node_modules.
 */
export function wasmLocation(wasmDir?: string): WasmLocation {
  if (wasmDir !== undefined) {
    const runtimeFile = path.join(wasmDir, RUNTIME_FILE);
    if (!fs.existsSync(runtimeFile)) {
      throw new AgentError(ErrorReason.Config, `tree-sitter: ${RUNTIME_FILE} not found in the configured wasm folder ${wasmDir}`);
    }
    return { runtimeFile, grammarDir: wasmDir };
  }
  const bundleDir = bundleFolder();
  if (bundleDir !== undefined && fs.existsSync(path.join(bundleDir, RUNTIME_FILE))) {
    return { runtimeFile: path.join(bundleDir, RUNTIME_FILE), grammarDir: bundleDir };
  }
  const fromModules = fromNodeModules();
  if (fromModules !== undefined) return fromModules;
  throw new AgentError(
    ErrorReason.Config,
    `tree-sitter: cannot find ${RUNTIME_FILE}; install web-tree-sitter and @vscode/tree-sitter-wasm, or copy the .wasm files next to the bundle`,
  );
}

/** The folder of this code when it runs as CommonJS (the esbuild bundle); undefined under ESM. */
function bundleFolder(): string | undefined {
  // typeof never throws on an undeclared name, and __dirname does not exist in native ES modules.
  return typeof __dirname === 'string' ? __dirname : undefined;
}

function fromNodeModules(): WasmLocation | undefined {
  // Resolve from this file when its name is known, else from the working directory, so both a
  // CommonJS run and an ESM test run find the project's node_modules.
  const bases = [typeof __filename === 'string' ? __filename : undefined, path.join(process.cwd(), 'package.json')];
  for (const base of bases) {
    if (base === undefined) continue;
    try {
      const req = createRequire(base);
      const runtimeFile = req.resolve(`web-tree-sitter/${RUNTIME_FILE}`);
      const grammarDir = path.join(path.dirname(req.resolve('@vscode/tree-sitter-wasm/package.json')), 'wasm');
      return { runtimeFile, grammarDir };
    } catch {
      // Not resolvable from this base; try the next one.
    }
  }
  return undefined;
}
