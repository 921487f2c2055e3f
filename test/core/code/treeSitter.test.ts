import { describe, expect, it } from 'vitest';
import { languageForPath } from '../../../src/core/code/languages.js';
import { parse, withTree } from '../../../src/core/code/treeSitter.js';
import { fixture } from './fixtures.js';

describe('languageForPath', () => {
  it('maps extensions and well-known file names to grammars', () => {
    const cases: Array<[string, string, string]> = [
      ['src/a.py', 'python', 'tree-sitter-python.wasm'],
      ['src/a.ts', 'typescript', 'tree-sitter-typescript.wasm'],
      ['src/a.d.ts', 'typescript', 'tree-sitter-typescript.wasm'],
      ['src/App.tsx', 'tsx', 'tree-sitter-tsx.wasm'],
      ['lib/x.mjs', 'javascript', 'tree-sitter-javascript.wasm'],
      ['lib/x.jsx', 'javascript', 'tree-sitter-javascript.wasm'],
      ['main.go', 'go', 'tree-sitter-go.wasm'],
      ['lib.rs', 'rust', 'tree-sitter-rust.wasm'],
      ['A.java', 'java', 'tree-sitter-java.wasm'],
      ['A.cs', 'c_sharp', 'tree-sitter-c-sharp.wasm'],
      ['v.HPP', 'cpp', 'tree-sitter-cpp.wasm'],
      ['m.c', 'c', 'tree-sitter-cpp.wasm'],
      ['Gemfile', 'ruby', 'tree-sitter-ruby.wasm'],
      ['x.php', 'php', 'tree-sitter-php.wasm'],
      ['run.sh', 'bash', 'tree-sitter-bash.wasm'],
      ['s.css', 'css', 'tree-sitter-css.wasm'],
    ];
    for (const [file, id, grammar] of cases) {
      expect(languageForPath(file), file).toEqual({ id, grammarFile: grammar });
    }
  });

  it('returns undefined for files no grammar covers, including names that shadow Object properties', () => {
    for (const file of ['README.md', 'Makefile', 'data.json', 'noext', 'constructor', 'x.toString', '__proto__']) {
      expect(languageForPath(file), file).toBeUndefined();
    }
  });
});

describe('parse', () => {
  const samples: Array<[string, string, string]> = [
    ['shop.py', 'module', 'class_definition'],
    ['inventory.ts', 'program', 'abstract_class_declaration'],
    ['App.tsx', 'program', 'jsx_element'],
    ['server.go', 'source_file', 'method_declaration'],
    ['geometry.rs', 'source_file', 'impl_item'],
    ['Library.java', 'program', 'record_declaration'],
    ['Account.cs', 'compilation_unit', 'property_declaration'],
    ['vec.cpp', 'translation_unit', 'template_declaration'],
    ['billing.rb', 'program', 'singleton_method'],
    ['repo.php', 'program', 'method_declaration'],
    ['deploy.sh', 'program', 'function_definition'],
    ['site.css', 'stylesheet', 'media_statement'],
  ];

  it('parses a realistic file of every shipped grammar without errors', async () => {
    for (const [name, rootType, inner] of samples) {
      const result = await withTree(name, fixture(name), (tree) => ({
        root: tree.rootNode.type,
        hasError: tree.rootNode.hasError,
        inner: tree.rootNode.descendantsOfType(inner).length,
      }));
      expect(result, name).toEqual({ root: rootType, hasError: false, inner: expect.any(Number) });
      expect(result?.inner, name).toBeGreaterThan(0);
    }
  });

  it('parses C with the C++ grammar', async () => {
    const types = await withTree('m.c', 'int add(int a, int b) { return a + b; }\n', (tree) => tree.rootNode.namedChildren.map((c) => c?.type));
    expect(types).toEqual(['function_definition']);
  });

  it('returns undefined for an unsupported file and leaves the caller to fall back', async () => {
    expect(await parse('notes.md', '# title\n')).toBeUndefined();
    expect(await withTree('notes.md', '# title\n', () => 1)).toBeUndefined();
  });

  it('returns a tree the caller owns', async () => {
    const tree = await parse('a.py', 'x = 1\n');
    expect(tree?.rootNode.text).toBe('x = 1\n');
    tree?.delete();
  });

  it('parses a file in about a millisecond once warm', async () => {
    const text = fixture('inventory.ts');
    await withTree('a.ts', text, () => undefined);
    const started = performance.now();
    for (let i = 0; i < 20; i++) await withTree('a.ts', text, () => undefined);
    const perParse = (performance.now() - started) / 20;
    // Generous bound for a loaded shared machine; measured around 0.1-0.3 ms.
    expect(perParse).toBeLessThan(20);
  });
});
