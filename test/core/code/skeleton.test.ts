import { describe, expect, it } from 'vitest';
import { skeleton } from '../../../src/core/code/skeleton.js';
import { fixture } from './fixtures.js';

/** The line numbers a skeleton shows, in order. */
function numbers(view: string | undefined): number[] {
  return (view ?? '').split('\n').filter((l) => /^ *\d+\t/.test(l)).map((l) => Number.parseInt(l, 10));
}

describe('skeleton', () => {
  it('shows Python signatures with cat -n numbering, source indentation and body markers', async () => {
    expect(await skeleton('shop.py', fixture('shop.py'))).toBe([
      '      \t...',
      '     2\timport os',
      '      \t...',
      '     5\tfrom typing import (',
      '      \t    ...',
      '     8\t)',
      '    10\tTAX = 0.2',
      '    13\t@dataclass',
      '    14\tclass Item:',
      '    15\t    name: str',
      '    16\t    price: float = 0.0',
      '    17\t    tags: list = field(default_factory=list)',
      '    19\t    def with_tax(self) -> float:',
      '      \t        ...',
      '    23\tclass Cart:',
      '      \t    ...',
      '    26\t    def __init__(self, owner: str):',
      '      \t        ...',
      '    30\t    def add(self, item: Item,',
      '    31\t            quantity: int = 1) -> None:',
      '      \t        ...',
      '    35\t    @property',
      '    36\t    def total(self) -> float:',
      '      \t        ...',
      '    39\t    class Error(Exception):',
      '      \t        ...',
      '    43\tdef load(path: str) -> Optional[Cart]:',
      '      \t    ...',
      '    53\tasync def fetch(url): return url',
    ].join('\n'));
  });

  it('leaves markers out on request', async () => {
    const view = await skeleton('shop.py', fixture('shop.py'), { markers: false });
    expect(view?.split('\n')).toHaveLength(19);
    expect(view).not.toContain('...');
  });

  it('shows TypeScript multi-line signatures whole and leaves bodies out', async () => {
    const view = await skeleton('inventory.ts', fixture('inventory.ts'));
    expect(numbers(view)).toEqual([1, 2, 5, 6, 7, 10, 12, 13, 14, 17, 18, 19, 20, 22, 26, 30, 31, 32, 33, 39, 41, 46, 50, 53, 55, 56]);
    expect(view).toContain('    30\t  async load(\n    31\t    file: string,\n    32\t    parse: (raw: string) => T[],\n    33\t  ): Promise<number> {\n      \t    ...\n');
    expect(view).toContain('    17\t@Injectable()\n    18\texport abstract class Inventory<T extends Item> implements Iterable<T> {');
    expect(view).not.toContain('readFile(file');
  });

  it('shows a TSX component and a JavaScript class', async () => {
    expect(numbers(await skeleton('App.tsx', fixture('App.tsx')))).toEqual([1, 3, 5, 10, 11]);
    const js = 'export class Queue {\n  constructor() {\n    this.items = [];\n  }\n\n  push(x) {\n    this.items.push(x);\n  }\n}\n';
    expect(await skeleton('queue.mjs', js)).toBe(
      '     1\texport class Queue {\n     2\t  constructor() {\n      \t    ...\n     6\t  push(x) {\n      \t    ...',
    );
  });

  it('shows Go package, imports, types with fields, functions and methods', async () => {
    expect(await skeleton('server.go', fixture('server.go'))).toBe([
      '     1\tpackage server',
      '     3\timport (',
      '      \t\t...',
      '     6\t)',
      '      \t...',
      '     9\ttype Handler interface {',
      '    10\t\tServeHTTP(w http.ResponseWriter, r *http.Request)',
      '    11\t\tName() string',
      '    14\ttype Server struct {',
      '    15\t\tAddr    string',
      '    16\t\tTimeout int',
      '      \t...',
      '    20\t\tID    int64',
      '    21\t\tNames []string',
      '      \t...',
      '    25\tfunc New(addr string) *Server {',
      '      \t\t...',
      '    29\tfunc (s *Server) Start(',
      '    30\t\thandler Handler,',
      '    31\t) error {',
      '      \t\t...',
      '    36\tfunc (s Server) String() string { return s.Addr }',
    ].join('\n'));
  });

  it('shows Rust attributes, fields, trait signatures and impl methods', async () => {
    const view = await skeleton('geometry.rs', fixture('geometry.rs'));
    expect(numbers(view)).toEqual([1, 2, 5, 6, 7, 8, 11, 12, 13, 16, 17, 18, 23, 24, 32, 33, 38, 40, 41, 44]);
    expect(view).toContain('     5\t#[derive(Debug, Clone, Copy)]\n     6\tpub struct Point {');
    expect(view).toContain('    23\timpl Area for Shape {\n    24\t    fn area(&self) -> f64 {\n      \t        ...');
    expect(view).not.toContain('match self');
  });

  it('shows Java annotations, wrapped parameter lists, records, nested types and enum constants', async () => {
    const view = await skeleton('Library.java', fixture('Library.java'));
    expect(numbers(view)).toEqual([1, 4, 7, 8, 10, 13, 14, 18, 19, 29, 30, 35, 36, 39, 40, 41, 43]);
    expect(view).toContain('    18\t    public List<Book> findByAuthor(String author,\n    19\t                                   boolean exact) {\n      \t        ...');
    expect(view).not.toContain('result.add');
  });

  it('keeps CRLF line endings out and clips very long lines', async () => {
    const long = `x${'y'.repeat(500)}`;
    const view = await skeleton('a.py', `def f(${long}):\r\n    return 1\r\n`);
    expect(view).toBe(`     1\tdef f(${long.slice(0, 294)} …\n      \t    ...`);
  });

  it('returns undefined for unsupported files and files without definitions', async () => {
    expect(await skeleton('README.md', '# Title\n\ndef f(): pass\n')).toBeUndefined();
    expect(await skeleton('script.py', 'import sys\nprint(sys.argv)\n')).toBeUndefined();
  });
});
