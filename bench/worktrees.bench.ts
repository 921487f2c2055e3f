/**
 * Worktree setup cost: our snapshot + 8 worktrees against 8 plain `git worktree add --detach`, on a generated
 * 2,000-file repository with uncommitted changes, alternating the variants round by round.
 *
 *   npx tsx bench/worktrees.bench.ts [--rounds 5] [--worktrees 8] [--files 2000]
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { releaseSnapshot, snapshot } from '../src/core/worktree/snapshot.js';
import { createWorktrees, removeWorktrees } from '../src/core/worktree/worktrees.js';
import { benchGit, lcg, sourceFile } from './syntheticRepo.js';

const run = promisify(execFile);

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
}

const ROUNDS = option('rounds', 5);
const WORKTREES = option('worktrees', 8);
const FILES = option('files', 2000);

/** A repository of `FILES` files in nested folders, one commit, plus staged, unstaged, untracked and deleted changes. */
function generateRepo(): string {
  const root = mkdtempSync(join(os.tmpdir(), 'entropo-bench-repo-'));
  const random = lcg(42);
  for (let i = 0; i < FILES; i++) {
    const python = i % 3 === 0;
    const dir = join(root, `pkg${i % 10}`, `mod${Math.floor(i / 10) % 20}`, `sub${Math.floor(i / 200)}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `file${i}.${python ? 'py' : 'ts'}`), sourceFile(random, `m${i}`, python));
  }
  writeFileSync(join(root, 'README.md'), '# Generated benchmark repository\n');
  benchGit(root, ['init', '-q', '-b', 'main']);
  benchGit(root, ['add', '-A']);
  benchGit(root, ['-c', 'commit.gpgsign=false', 'commit', '-q', '-m', 'initial']);
  writeFileSync(join(root, 'pkg0/mod0/sub0/file0.py'), '"""Changed and staged."""\n');
  benchGit(root, ['add', 'pkg0/mod0/sub0/file0.py']);
  writeFileSync(join(root, 'pkg1/mod0/sub0/file1.ts'), '// Changed, not staged.\n');
  writeFileSync(join(root, 'NEW_NOTES.md'), 'untracked\n');
  rmSync(join(root, 'pkg2/mod0/sub0/file2.ts'));
  return root;
}

interface Timing {
  create: number;
  remove: number;
}

async function ours(root: string, baseDir: string): Promise<Timing> {
  const start = performance.now();
  const snap = await snapshot(root);
  const batch = await createWorktrees(snap, WORKTREES, { baseDir });
  const created = performance.now();
  await removeWorktrees(batch);
  return { create: created - start, remove: performance.now() - created };
}

let raceFailures = 0;

async function plain(root: string, baseDir: string, commit: string, concurrent: boolean): Promise<Timing> {
  const dir = mkdtempSync(join(baseDir, 'plain-'));
  const paths = Array.from({ length: WORKTREES }, (_, k) => join(dir, `r${k}`));
  const add = (path: string): Promise<unknown> => run('git', ['worktree', 'add', '-q', '--detach', path, commit], { cwd: root });
  const start = performance.now();
  if (concurrent) {
    const results = await Promise.allSettled(paths.map(add));
    // Concurrent adds race on git's worktree records; a caller would have to retry the failed ones.
    for (const [k, result] of results.entries()) {
      if (result.status === 'rejected') {
        raceFailures++;
        rmSync(paths[k], { recursive: true, force: true });
        await run('git', ['worktree', 'prune'], { cwd: root });
        await add(paths[k]);
      }
    }
  } else {
    for (const path of paths) await add(path);
  }
  const created = performance.now();
  for (const path of paths) await run('git', ['worktree', 'remove', '--force', path], { cwd: root });
  await run('git', ['worktree', 'prune'], { cwd: root });
  rmSync(dir, { recursive: true, force: true });
  return { create: created - start, remove: performance.now() - created };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function main(): Promise<void> {
  const cpus = os.cpus();
  console.log(`command: npx tsx bench/worktrees.bench.ts --rounds ${ROUNDS} --worktrees ${WORKTREES} --files ${FILES}`);
  console.log(`machine: ${cpus.length} cores (${cpus[0]?.model ?? 'unknown'}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}`);
  console.log(`tools: node ${process.version}, ${benchGit(process.cwd(), ['--version']).trim()}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const root = generateRepo();
  const baseDir = mkdtempSync(join(os.tmpdir(), 'entropo-bench-wt-'));
  const removeAll = (): void => {
    rmSync(baseDir, { recursive: true, force: true });
    rmSync(root, { recursive: true, force: true });
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      removeAll();
      process.exit(130);
    });
  }
  const reference = await snapshot(root);
  const variants: Record<string, () => Promise<Timing>> = {
    'ours (snapshot + concurrent checkout)': () => ours(root, baseDir),
    'plain worktree add, concurrent': () => plain(root, baseDir, reference.commit, true),
    'plain worktree add, sequential': () => plain(root, baseDir, reference.commit, false),
  };
  const names = Object.keys(variants);
  const timings = new Map<string, Timing[]>(names.map((name) => [name, []]));
  try {
    await variants[names[0]](); // warm the page cache and git's object lookups once, unmeasured
    for (let round = 0; round < ROUNDS; round++) {
      // Rotate the order so that no variant always runs first (or right after another's cleanup).
      const order = names.map((_, i) => names[(i + round) % names.length]);
      for (const name of order) timings.get(name)?.push(await variants[name]());
    }
  } finally {
    await releaseSnapshot(reference);
    removeAll();
  }
  report(names, timings);
}

function report(names: string[], timings: Map<string, Timing[]>): void {
  const med = (name: string, key: keyof Timing | 'total'): number =>
    median((timings.get(name) ?? []).map((t) => (key === 'total' ? t.create + t.remove : t[key])));
  console.log(`\n${ROUNDS} rounds, ${WORKTREES} worktrees of a ${FILES}-file repository; median ms`);
  console.log('variant'.padEnd(40) + 'create'.padStart(10) + 'remove'.padStart(10) + 'total'.padStart(10) + '  total min-max');
  for (const name of names) {
    const cells = (['create', 'remove', 'total'] as const).map((key) => med(name, key).toFixed(0).padStart(10));
    const totals = (timings.get(name) ?? []).map((t) => t.create + t.remove);
    const spread = `  ${Math.min(...totals).toFixed(0)}-${Math.max(...totals).toFixed(0)}`;
    console.log(name.padEnd(40) + cells.join('') + spread);
  }
  const [mine, concurrent, sequential] = names;
  for (const base of [concurrent, sequential]) {
    const create = med(mine, 'create') / med(base, 'create');
    const total = med(mine, 'total') / med(base, 'total');
    console.log(`ours / ${base}: create ${create.toFixed(2)}x, create+remove ${total.toFixed(2)}x`);
  }
  console.log(`plain concurrent adds that failed on git's own race and were retried: ${raceFailures}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
