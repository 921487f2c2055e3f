import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wasmLocation } from '../../../src/core/code/wasmLocation.js';

const run = promisify(execFile);
const root = path.resolve(__dirname, '../../..');

/**
 * Builds the code module the way the extension and the CLI are built (CommonJS, web-tree-sitter
 * aliased to its CommonJS build) and runs it from a folder with no node_modules above it.
 */
describe('the code module inside a CommonJS bundle', () => {
  let dir: string;
  let bundle: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'code-bundle-'));
    const entry = path.join(dir, 'entry.ts');
    const code = path.join(root, 'src/core/code');
    fs.writeFileSync(entry, [
      `import { skeleton } from ${JSON.stringify(path.join(code, 'skeleton.ts'))};`,
      `import { syntaxErrors } from ${JSON.stringify(path.join(code, 'syntaxErrors.ts'))};`,
      'void (async () => {',
      "  const view = await skeleton('a.py', 'class A:\\n    def f(self):\\n        return 1\\n');",
      "  const errors = await syntaxErrors('a.go', 'package main\\nfunc f( {\\n');",
      '  process.stdout.write(JSON.stringify({ view, errors: errors?.length }));',
      '})().catch((error) => { process.stderr.write(String(error)); process.exit(1); });',
    ].join('\n'));
    bundle = path.join(dir, 'dist', 'cli.js');
    await build({
      entryPoints: [entry],
      outfile: bundle,
      bundle: true,
      format: 'cjs',
      platform: 'node',
      target: 'node20',
      logLevel: 'silent',
      alias: { 'web-tree-sitter': path.join(root, 'node_modules/web-tree-sitter/web-tree-sitter.cjs') },
    });
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('fails with a clear message when the .wasm files were not copied next to the bundle', async () => {
    const failure = await run(process.execPath, [bundle], { cwd: dir, timeout: 20_000 }).catch((error: { stderr: string }) => error);
    expect((failure as { stderr: string }).stderr).toContain('cannot find web-tree-sitter.wasm');
  });

  it('works with web-tree-sitter.wasm and the grammars copied into dist/', async () => {
    const source = wasmLocation();
    fs.copyFileSync(source.runtimeFile, path.join(dir, 'dist', 'web-tree-sitter.wasm'));
    for (const grammar of ['tree-sitter-python.wasm', 'tree-sitter-go.wasm']) {
      fs.copyFileSync(path.join(source.grammarDir, grammar), path.join(dir, 'dist', grammar));
    }
    const { stdout } = await run(process.execPath, [bundle], { cwd: dir, timeout: 20_000 });
    expect(JSON.parse(stdout)).toEqual({
      view: '     1\tclass A:\n     2\t    def f(self):\n      \t        ...',
      errors: 1,
    });
  });
});
