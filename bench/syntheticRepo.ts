/** Deterministic generated git repositories for the benchmarks: source files in nested folders, one commit. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Bench',
  GIT_AUTHOR_EMAIL: 'bench@example.invalid',
  GIT_COMMITTER_NAME: 'Bench',
  GIT_COMMITTER_EMAIL: 'bench@example.invalid',
};

/** Runs git in `cwd` with a fixed identity and returns its stdout. */
export function benchGit(cwd: string, args: string[]): string {
  return execFileSync('git', args, { cwd, env: ENV, encoding: 'utf8', maxBuffer: 256 << 20 });
}

/** Deterministic pseudo-random numbers, so that every run benchmarks the same repository. */
export function lcg(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

/** A small Python or TypeScript source file of 20-120 lines. */
export function sourceFile(random: () => number, name: string, python: boolean): string {
  const lines: string[] = [python ? `"""Module ${name}."""` : `// Module ${name}.`];
  const functions = 2 + Math.floor(random() * 8);
  for (let f = 0; f < functions; f++) {
    const body = 3 + Math.floor(random() * 10);
    lines.push(python ? `def ${name}_f${f}(value, limit=${f}):` : `export function ${name}F${f}(value: number): number {`);
    for (let b = 0; b < body; b++) {
      const k = Math.floor(random() * 1000);
      lines.push(python ? `    value = value * ${k} % ${k + 7}  # step ${b}` : `  value = (value * ${k}) % ${k + 7}; // step ${b}`);
    }
    lines.push(python ? '    return value\n' : '  return value;\n}\n');
  }
  return lines.join('\n') + '\n';
}

/**
 * Writes `count` generated files under `root/<prefix>` (about 100 per folder, three levels deep), so a
 * repository can be grown to a given size. None is a package or named like a test, so test runners skip them.
 */
export function addGeneratedFiles(root: string, count: number, prefix = 'vendor'): void {
  const random = lcg(42);
  for (let i = 0; i < count; i++) {
    const python = i % 3 === 0;
    const dir = join(root, prefix, `pkg${i % 10}`, `mod${Math.floor(i / 10) % 20}`, `sub${Math.floor(i / 2000)}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `file${i}.${python ? 'py' : 'ts'}`), sourceFile(random, `m${i}`, python));
  }
}

/** A new repository at `root` with `count` generated files committed once (and packed, as a cloned repository is). */
export function generateRepo(root: string, count: number): void {
  mkdirSync(root, { recursive: true });
  addGeneratedFiles(root, count, 'src');
  writeFileSync(join(root, 'README.md'), '# Generated benchmark repository\n');
  benchGit(root, ['init', '-q', '-b', 'main']);
  benchGit(root, ['add', '-A']);
  // No automatic gc in the background: it would race the explicit one below.
  benchGit(root, ['-c', 'commit.gpgsign=false', '-c', 'gc.auto=0', 'commit', '-q', '-m', 'generated']);
  benchGit(root, ['gc', '-q']);
}
