import { describe, expect, it } from 'vitest';
import { newSyntaxErrors, syntaxErrors } from '../../../src/core/code/syntaxErrors.js';
import { fixture } from './fixtures.js';

/** The fixture with one exact substring replaced; fails loudly if the substring is gone. */
function broken(name: string, from: string, to: string): string {
  const text = fixture(name);
  expect(text.split(from)).toHaveLength(2);
  return text.replace(from, to);
}

describe('syntaxErrors', () => {
  it('finds nothing in valid files of every language', async () => {
    for (const name of ['shop.py', 'inventory.ts', 'App.tsx', 'server.go', 'geometry.rs', 'Library.java', 'Account.cs', 'vec.cpp', 'billing.rb', 'repo.php', 'deploy.sh', 'site.css']) {
      expect(await syntaxErrors(name, fixture(name)), name).toEqual([]);
    }
  });

  it('finds an unclosed parameter list in Python, with the errors it causes further down', async () => {
    const errors = await syntaxErrors('shop.py', broken('shop.py', 'def with_tax(self) -> float:', 'def with_tax(self -> float:'));
    expect(errors).toEqual([
      { line: 19, column: 18, kind: 'ERROR', text: 'self ->' },
      { line: 20, column: 9, kind: 'ERROR', text: 'return' },
      { line: 23, column: 1, kind: 'ERROR', text: 'class Cart' },
      { line: 26, column: 5, kind: 'ERROR', text: 'def __init__(self, owner' },
    ]);
  });

  it('finds a missing parenthesis in TypeScript', async () => {
    const errors = await syntaxErrors('inventory.ts', broken('inventory.ts', 'this.items.set(item.id, item);', 'this.items.set(item.id, item;'));
    expect(errors).toEqual([{ line: 27, column: 33, kind: 'MISSING', text: ')' }]);
  });

  it('finds an unclosed composite literal in Go', async () => {
    const errors = await syntaxErrors('server.go', broken('server.go', 'return &Server{Addr: addr}', 'return &Server{Addr: addr'));
    expect(errors).toEqual([{ line: 25, column: 31, kind: 'ERROR', text: '{' }]);
  });

  it('finds a missing operand in Rust', async () => {
    const errors = await syntaxErrors('geometry.rs', broken('geometry.rs', '=> side * side,', '=> side * ,'));
    expect(errors).toEqual([{ line: 27, column: 45, kind: 'MISSING', text: 'identifier' }]);
  });

  it('finds a missing semicolon in Java', async () => {
    const errors = await syntaxErrors('Library.java', broken('Library.java', 'books.size() + ")";', 'books.size() + ")"'));
    expect(errors).toEqual([{ line: 15, column: 47, kind: 'MISSING', text: ';' }]);
  });

  it('returns undefined for an unsupported language', async () => {
    expect(await syntaxErrors('notes.md', '(((')).toBeUndefined();
  });
});

describe('newSyntaxErrors', () => {
  const before = [
    'import os',
    '',
    'def broken(:',
    '    pass',
    '',
    'def ok(a):',
    '    return a',
    '',
  ].join('\n');

  it('reports nothing when a pre-existing error only moved because lines were added above it', async () => {
    const after = `import sys\nimport json\n\n${before.replace('return a', 'return a + 1')}`;
    const old = await syntaxErrors('m.py', before);
    const moved = await syntaxErrors('m.py', after);
    expect(old?.map((e) => e.line)).toEqual([3]);
    expect(moved?.map((e) => e.line)).toEqual([6]);
    expect(await newSyntaxErrors('m.py', before, after)).toEqual([]);
  });

  it('reports only the error the edit introduced, at its new position', async () => {
    const after = `import sys\n${before.replace('return a', 'return a +')}`;
    expect(await newSyntaxErrors('m.py', before, after)).toEqual([{ line: 8, column: 5, kind: 'ERROR', text: 'return a +' }]);
  });

  it('counts a second copy of an existing error as new', async () => {
    const java = 'class A {\n  void f() { int x = 1 }\n}\n';
    const twice = 'class A {\n  void f() { int x = 1 }\n  void g() { int x = 1 }\n}\n';
    const fresh = await newSyntaxErrors('A.java', java, twice);
    expect(fresh).toHaveLength(1);
    expect(fresh?.[0]).toMatchObject({ kind: 'MISSING', text: ';' });
  });

  it('reports nothing when the edit fixed the error', async () => {
    expect(await newSyntaxErrors('m.py', before, before.replace('def broken(:', 'def broken():'))).toEqual([]);
  });

  it('treats every error of a new file as new, and returns undefined for an unsupported language', async () => {
    expect(await newSyntaxErrors('m.py', undefined, before)).toEqual([{ line: 3, column: 12, kind: 'MISSING', text: ')' }]);
    expect(await newSyntaxErrors('m.txt', 'a', 'b(')).toBeUndefined();
  });
});
