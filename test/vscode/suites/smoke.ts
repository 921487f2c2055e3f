import * as assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { SETTINGS } from '../../../src/core/settings/settings.js';
import { readSettings } from '../../../src/vscode/settings.js';
import { e2eEnv, git, ourExtension, workspaceRoot } from '../helpers.js';
import { skip, suite } from '../suite.js';

/** The packaged extension installs, activates and carries its native runtime; the workspace is the example. */
export default suite('smoke', ({ test }) => {
  test('the editor is VS Code 1.99, as engines.vscode requires', () => {
    assert.match(vscode.version, /^1\.99\./);
    assert.equal((ourExtension().packageJSON as { engines: { vscode: string } }).engines.vscode, '^1.99.0');
  });

  test('the package holds only the whitelisted node_modules', () => {
    if (!e2eEnv.packaged) skip('the extension runs from the repository, not from the .vsix (scripts/e2e.sh tests the package)');
    const modules = readdirSync(path.join(ourExtension().extensionPath, 'node_modules')).sort();
    assert.deepEqual(modules, ['onnxruntime-common', 'onnxruntime-node']);
    const binaries = path.join(ourExtension().extensionPath, 'node_modules/onnxruntime-node/bin/napi-v6');
    assert.deepEqual(readdirSync(binaries), ['linux']);
    assert.deepEqual(readdirSync(path.join(binaries, 'linux')), ['x64']);
  });

  test('the extension activates', async () => {
    const extension = ourExtension();
    const wasActive = extension.isActive;
    const started = performance.now();
    await extension.activate();
    const ms = performance.now() - started;
    assert.equal(extension.isActive, true);
    // Recorded for BENCHMARKS.md: the time VS Code takes to load the activation bundle and run activate().
    if (!wasActive && e2eEnv.artifacts) writeFileSync(path.join(e2eEnv.artifacts, 'activation.json'), `${JSON.stringify({ activationMs: ms })}\n`);
  });

  test('the test time limit and concurrency are settings with the CLI flags\' defaults, read fresh by the extension', async () => {
    assert.deepEqual([readSettings().testTimeoutSeconds, readSettings().testConcurrency], [SETTINGS.testTimeoutSeconds.default, SETTINGS.testConcurrency.default]);
    const config = vscode.workspace.getConfiguration('entropo.verifier');
    await config.update('testTimeoutSeconds', 30, vscode.ConfigurationTarget.Global);
    try {
      assert.equal(readSettings().testTimeoutSeconds, 30);
    } finally {
      await config.update('testTimeoutSeconds', undefined, vscode.ConfigurationTarget.Global);
    }
  });

  test('every setting is read through its one definition: a wrong value is refused with the setting named', async () => {
    const config = vscode.workspace.getConfiguration('entropo');
    const settings = readSettings();
    assert.equal(settings.maxSteps, SETTINGS.maxSteps.default);
    assert.equal(settings.model, 'scripted');
    const before = config.inspect<number>('samples')?.globalValue;
    await config.update('samples', 40, vscode.ConfigurationTarget.Global);
    try {
      assert.throws(() => readSettings(), { message: 'entropo.samples must be a number from 1 to 16, got 40.' });
    } finally {
      await config.update('samples', before, vscode.ConfigurationTarget.Global);
    }
    assert.equal(readSettings().samples, before);
  });

  test('every command in the manifest is registered after activation', async () => {
    await ourExtension().activate();
    const declared = ((ourExtension().packageJSON as { contributes?: { commands?: { command: string }[] } }).contributes?.commands ?? []).map((c) => c.command);
    const registered = new Set(await vscode.commands.getCommands(true));
    assert.deepEqual(declared.filter((id) => !registered.has(id)), []);
  });

  test('the shipped onnxruntime-node runs in the extension host, and every shipped model loads', async () => {
    const extensionPath = ourExtension().extensionPath;
    assert.ok(existsSync(path.join(extensionPath, 'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1')));
    const ort = createRequire(path.join(extensionPath, 'package.json'))('onnxruntime-node') as {
      InferenceSession: { create(file: string): Promise<{ inputNames: readonly string[]; release(): Promise<void> }> };
      Tensor: new (type: string, data: Float32Array, dims: number[]) => { dims: readonly number[]; size: number };
    };
    const tensor = new ort.Tensor('float32', new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
    assert.deepEqual([...tensor.dims], [2, 3]);
    assert.equal(tensor.size, 6);
    const modelsDir = path.join(extensionPath, 'models');
    const models = existsSync(modelsDir)
      ? readdirSync(modelsDir, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.onnx'))
      : [];
    for (const model of models) {
      const session = await ort.InferenceSession.create(path.join(modelsDir, model));
      assert.ok(session.inputNames.length > 0, `${model} has no inputs`);
      await session.release();
    }
  });

  test('the workspace is a clean git repository holding the example', async () => {
    const root = workspaceRoot().fsPath;
    assert.ok(existsSync(path.join(root, 'pager', 'core.py')));
    assert.equal(await git(['status', '--porcelain']), '');
    assert.equal((await git(['rev-list', '--count', 'HEAD'])).trim(), '1');
  });
});
