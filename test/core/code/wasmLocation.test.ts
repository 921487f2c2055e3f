import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentError, ErrorReason } from '../../../src/core/errors.js';
import { configureTreeSitter, parse } from '../../../src/core/code/treeSitter.js';
import { wasmLocation } from '../../../src/core/code/wasmLocation.js';

// This file runs in its own worker, so the runtime here starts from the configured folder.
describe('wasmLocation', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'code-wasm-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('finds the runtime and the grammars in node_modules when run from sources', () => {
    const found = wasmLocation();
    expect(path.basename(found.runtimeFile)).toBe('web-tree-sitter.wasm');
    expect(fs.existsSync(found.runtimeFile)).toBe(true);
    expect(fs.existsSync(path.join(found.grammarDir, 'tree-sitter-python.wasm'))).toBe(true);
  });

  it('rejects a configured folder without the runtime, naming the folder', () => {
    const empty = fs.mkdtempSync(path.join(dir, 'empty-'));
    expect(() => wasmLocation(empty)).toThrow(AgentError);
    try {
      wasmLocation(empty);
    } catch (error) {
      expect((error as AgentError).reason).toBe(ErrorReason.Config);
      expect((error as AgentError).message).toContain(empty);
    }
  });

  it('loads from a configured folder laid out like dist/, and retries a grammar that was missing', async () => {
    const source = wasmLocation();
    fs.copyFileSync(source.runtimeFile, path.join(dir, 'web-tree-sitter.wasm'));
    fs.copyFileSync(path.join(source.grammarDir, 'tree-sitter-python.wasm'), path.join(dir, 'tree-sitter-python.wasm'));
    configureTreeSitter({ wasmDir: dir });

    const tree = await parse('a.py', 'def f(x):\n    return x\n');
    expect(tree?.rootNode.firstNamedChild?.type).toBe('function_definition');
    tree?.delete();

    const failure = await parse('main.go', 'package main\n').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AgentError);
    expect((failure as AgentError).reason).toBe(ErrorReason.Config);
    expect((failure as AgentError).message).toContain(path.join(dir, 'tree-sitter-go.wasm'));

    fs.copyFileSync(path.join(source.grammarDir, 'tree-sitter-go.wasm'), path.join(dir, 'tree-sitter-go.wasm'));
    const goTree = await parse('main.go', 'package main\n');
    expect(goTree?.rootNode.type).toBe('source_file');
    goTree?.delete();
  });
});
