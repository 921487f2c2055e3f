import { describe, expect, it } from 'vitest';
import { normalizedTokens } from '../../../src/core/code/tokens.js';

/** Whether two versions of a file tokenize the same. */
async function same(file: string, a: string, b: string): Promise<boolean> {
  const [ta, tb] = await Promise.all([normalizedTokens(file, a), normalizedTokens(file, b)]);
  return JSON.stringify(ta) === JSON.stringify(tb);
}

describe('normalizedTokens', () => {
  it('yields the leaf tokens of TypeScript with comments dropped and string contents kept', async () => {
    expect(await normalizedTokens('a.ts', 'const total = sum(items, "a b"); // why\n/* note */ export { total };\n')).toEqual([
      'const', 'total', '=', 'sum', '(', 'items', ',', '"', 'a b', '"', ')', ';', 'export', '{', 'total', '}', ';',
    ]);
  });

  const variants: Array<{ file: string; base: string; layout: string; change: string }> = [
    {
      file: 'cart.py',
      base: 'def add(self, item):\n    # keep order\n    self.items.append(item)\n    return len(self.items)\n',
      layout: 'def add( self,item ):\n\n    self.items.append( item )  # appended\n    return len(self.items)\n',
      change: 'def add(self, item):\n    self.items.insert(0, item)\n    return len(self.items)\n',
    },
    {
      file: 'inventory.ts',
      base: 'export function total(items: Priced[]): number {\n  return items.reduce((s, i) => s + i.price, 0);\n}\n',
      layout: '/** Sum of prices. */\nexport function total(\n  items: Priced[]\n): number {\n  return items.reduce((s, i) => s + i.price, 0); // no tax\n}\n',
      change: 'export function total(items: Priced[]): number {\n  return items.reduce((s, i) => s + i.price, 1);\n}\n',
    },
    {
      file: 'server.go',
      base: 'package server\n\nfunc New(addr string) *Server {\n\treturn &Server{Addr: addr}\n}\n',
      layout: 'package server\n// New builds a server.\nfunc New(addr string) *Server {\n\n    return &Server{ Addr: addr }\n}\n',
      change: 'package server\n\nfunc New(addr string) *Server {\n\treturn &Server{Addr: "0.0.0.0"}\n}\n',
    },
    {
      file: 'lib.rs',
      base: 'pub fn area(r: f64) -> f64 {\n    std::f64::consts::PI * r * r\n}\n',
      layout: '/// Area of a circle.\npub fn area(r: f64)\n    -> f64\n{\n    std::f64::consts::PI * r * r /* exact */\n}\n',
      change: 'pub fn area(r: f64) -> f64 {\n    std::f64::consts::PI * r * 2.0\n}\n',
    },
    {
      file: 'Library.java',
      base: 'class Library {\n  int size() { return books.size(); }\n}\n',
      layout: 'class Library\n{\n  /** Count. */\n  int size()\n  {\n    return books.size(); // all\n  }\n}\n',
      change: 'class Library {\n  int size() { return books.size() - 1; }\n}\n',
    },
  ];

  for (const { file, base, layout, change } of variants) {
    it(`treats ${file} versions that differ only in whitespace and comments as equal, and a real change as different`, async () => {
      expect(await same(file, base, layout)).toBe(true);
      expect(await same(file, base, change)).toBe(false);
    });
  }

  it('keeps Python indentation significant', async () => {
    const inside = 'for x in xs:\n    f(x)\n    g(x)\n';
    const outside = 'for x in xs:\n    f(x)\ng(x)\n';
    expect(await same('loop.py', inside, outside)).toBe(false);
    expect(await same('loop.py', inside, 'for x in xs:\n  f(x)\n  g(x)\n')).toBe(true);
  });

  it('treats a change of spacing inside a string literal as a real change', async () => {
    expect(await same('a.js', 'log("a b");\n', 'log("a  b");\n')).toBe(false);
    expect(await same('a.js', 'log("");\n', 'log(" ");\n')).toBe(false);
  });

  it('falls back to a regex tokenizer that knows the comment style of common unsupported files', async () => {
    expect(await normalizedTokens('conf.yaml', 'retries: 3  # per host\nurl: "http://x#frag"\n')).toEqual(['retries', ':', '3', 'url', ':', '"http://x#frag"']);
    expect(await normalizedTokens('Main.kt', 'val u = "//not" // comment\n/* block */ fun f() = 1\n')).toEqual(['val', 'u', '=', '"//not"', 'fun', 'f', '(', ')', '=', '1']);
    expect(await same('q.sql', 'SELECT a -- all\nFROM t;', 'SELECT   a\nFROM t ;')).toBe(true);
    expect(await same('q.sql', 'SELECT a FROM t;', 'SELECT b FROM t;')).toBe(false);
  });

  it('strips only whitespace when the comment style is unknown', async () => {
    expect(await normalizedTokens('notes.xyz', '# keep  me\nx=1')).toEqual(['#', 'keep', 'me', 'x', '=', '1']);
  });
});
