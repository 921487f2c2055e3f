// Bundles the extension, the CLI and the webview script; copies the tree-sitter wasm files next to them.
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';

const require = createRequire(import.meta.url);
const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

const node = {
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  sourcemap: !production,
  minify: production,
  external: ['vscode', 'onnxruntime-node'],
  // The ESM build of web-tree-sitter uses import.meta.url, which is undefined in a CJS bundle.
  alias: { 'web-tree-sitter': path.join(path.dirname(require.resolve('web-tree-sitter/web-tree-sitter.wasm')), 'web-tree-sitter.cjs') },
  logLevel: 'info',
};

const builds = [
  // The activation bundle stays tiny; the engine is in main.js, required on the first command.
  { ...node, entryPoints: { extension: 'src/vscode/extension.ts' }, outdir: 'dist', external: [...node.external, './main.js'] },
  { ...node, entryPoints: { main: 'src/vscode/main.ts' }, outdir: 'dist' },
  { ...node, entryPoints: { cli: 'src/cli/main.ts' }, outdir: 'dist', banner: { js: '#!/usr/bin/env node' } },
  { bundle: true, format: 'iife', platform: 'browser', target: 'es2022', sourcemap: !production, minify: production,
    entryPoints: { webview: 'media/webview.ts', train: 'media/train.ts' }, outdir: 'dist', logLevel: 'info' },
];

function copyWasm() {
  mkdirSync('dist', { recursive: true });
  copyFileSync(require.resolve('web-tree-sitter/web-tree-sitter.wasm'), 'dist/web-tree-sitter.wasm');
  const grammars = path.join(path.dirname(require.resolve('@vscode/tree-sitter-wasm/package.json')), 'wasm');
  // Only the grammars the code knows (src/core/code/languages.ts); the package ships more.
  const used = new Set([...readFileSync('src/core/code/languages.ts', 'utf8').matchAll(/grammarFile: '([^']+)'/g)].map((m) => m[1]));
  for (const file of used) copyFileSync(path.join(grammars, file), path.join('dist', file));
}

// The local verifier's model is loaded from next to the bundle.
function copyModels() {
  for (const file of readdirSync('models/local-verifier')) {
    if (file.endsWith('.onnx')) copyFileSync(path.join('models/local-verifier', file), path.join('dist', file));
  }
}

// The extension's settings come from their definitions in src/core/settings; package.json gets them here, so
// that a setting is added in one place. A test checks that the committed package.json is up to date.
async function writeSettings() {
  const built = await esbuild.build({ entryPoints: ['src/core/settings/editorContribution.ts'], bundle: true, write: false, format: 'cjs', platform: 'node', logLevel: 'silent' });
  const module = { exports: {} };
  new Function('module', 'exports', built.outputFiles[0].text)(module, module.exports);
  const text = readFileSync('package.json', 'utf8');
  const manifest = JSON.parse(text);
  manifest.contributes.configuration = module.exports.editorContribution();
  const updated = `${JSON.stringify(manifest, null, 2)}\n`;
  if (updated !== text) {
    writeFileSync('package.json', updated);
    console.log('package.json: contributes.configuration updated from src/core/settings');
  }
}

await writeSettings();
copyWasm();
copyModels();
if (watch) {
  for (const options of builds) await (await esbuild.context(options)).watch();
} else {
  await Promise.all(builds.map((options) => esbuild.build(options)));
}
