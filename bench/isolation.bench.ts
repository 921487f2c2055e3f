/**
 * Cost of N rollout workspaces on real repositories of growing size, side by side in one run: our overlays
 * over one shared checkout, our worktree fallback, and plain `git worktree add`, for each count. Reports the
 * medians of create and remove, the disk the N workspaces take, and once per repository the shared checkout
 * (made once per snapshot, reused while the snapshot's tree is the same).
 *
 *   npx tsx bench/isolation.bench.ts [--rounds 3] [--counts 8,16] [--variants overlay,worktree,plain] [--synthetic 40000] [REPO ...]
 *
 * REPO: clones of public repositories, given by path (never committed here; BENCHMARKS.md says which and
 * how to get them). --synthetic N adds a generated N-file repository as a last row.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { basename, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { chooseIsolation } from '../src/core/worktree/isolation.js';
import { pruneSharedCheckouts, sharedCheckoutsDir } from '../src/core/worktree/sharedCheckout.js';
import { releaseSnapshot, snapshot, type Snapshot } from '../src/core/worktree/snapshot.js';
import { createWorkspaces, removeWorkspaces } from '../src/core/worktree/workspaces.js';
import { benchGit, generateRepo } from './syntheticRepo.js';

const run = promisify(execFile);

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : fallback;
}

const ROUNDS = Number(option('rounds', '3'));
const COUNTS = option('counts', '8,16').split(',').map(Number);
const SYNTHETIC = Number(option('synthetic', '0'));
const ALL_VARIANTS = ['overlay', 'worktree', 'plain git'] as const;
/** --variants overlay,worktree leaves out plain git, whose sequential adds take minutes on the largest repositories. */
const VARIANTS = option('variants', ALL_VARIANTS.join(',')).split(',').map((v) => v.trim().replace(/^plain$/, 'plain git'))
  .map((v) => {
    if (!(ALL_VARIANTS as readonly string[]).includes(v)) throw new Error(`--variants takes ${ALL_VARIANTS.join(', ')}, got "${v}"`);
    return v as (typeof ALL_VARIANTS)[number];
  });

interface Sample {
  create: number;
  remove: number;
  /** KiB the N workspaces add on disk while they exist. */
  disk: number;
}

/** KiB used under `path` (real blocks, as `du -sk` counts them). */
function diskKiB(path: string): number {
  return Number(execFileSync('du', ['-sk', path], { encoding: 'utf8' }).split('\t')[0]);
}

async function ours(snap: Snapshot, count: number, baseDir: string, kind: 'overlay' | 'worktree'): Promise<Sample> {
  const start = performance.now();
  const batch = await createWorkspaces(snap, count, { kind, baseDir });
  const created = performance.now();
  const disk = diskKiB(batch.dir);
  const before = performance.now();
  await removeWorkspaces(batch, { baseDir });
  return { create: created - start, remove: performance.now() - before, disk };
}

/** `git worktree add` once per workspace, one after another: concurrent adds race on git's own worktree records. */
async function plain(root: string, commit: string, count: number, baseDir: string): Promise<Sample> {
  const dir = mkdtempSync(join(baseDir, 'plain-'));
  const paths = Array.from({ length: count }, (_, k) => join(dir, `r${k}`));
  const start = performance.now();
  for (const path of paths) await run('git', ['worktree', 'add', '-q', '--detach', path, commit], { cwd: root, maxBuffer: 64 << 20 });
  const created = performance.now();
  const disk = diskKiB(dir);
  const before = performance.now();
  for (const path of paths) await run('git', ['worktree', 'remove', '--force', path], { cwd: root });
  rmSync(dir, { recursive: true, force: true });
  return { create: created - start, remove: performance.now() - before, disk };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

interface RepoResult {
  name: string;
  files: number;
  checkoutMiB: number;
  sharedCheckoutMs: number[];
  samples: Map<string, Sample[]>;
}

async function benchRepo(root: string, name: string): Promise<RepoResult> {
  const baseDir = mkdtempSync(join(os.tmpdir(), 'entropo-bench-iso-'));
  const snap = await snapshot(root);
  const files = benchGit(root, ['ls-files']).split('\n').filter(Boolean).length;
  const result: RepoResult = { name, files, checkoutMiB: 0, sharedCheckoutMs: [], samples: new Map() };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      // The shared checkout, made afresh each round: what the first run on a new snapshot pays once.
      await pruneSharedCheckouts(snap.root, { baseDir, all: true });
      const start = performance.now();
      await removeWorkspaces(await createWorkspaces(snap, 1, { kind: 'overlay', baseDir }), { baseDir });
      result.sharedCheckoutMs.push(performance.now() - start);
      process.stderr.write(`${name} round ${round + 1} shared checkout: ${(performance.now() - start).toFixed(0)} ms\n`);
      const shared = join(sharedCheckoutsDir(snap.root, baseDir), 'c0');
      result.checkoutMiB = (diskKiB(shared) - diskKiB(join(shared, '.git'))) / 1024;
      for (const count of COUNTS) {
        // Rotate the order so that no variant always runs first, or right after another's cleanup.
        const order = VARIANTS.map((_, i) => VARIANTS[(i + round) % VARIANTS.length]);
        for (const variant of order) {
          const sample = variant === 'plain git' ? await plain(snap.root, snap.commit, count, baseDir)
            : await ours(snap, count, baseDir, variant);
          const key = `${variant} x${count}`;
          result.samples.set(key, [...(result.samples.get(key) ?? []), sample]);
          process.stderr.write(`${name} round ${round + 1} ${key}: create ${sample.create.toFixed(0)} ms, remove ${sample.remove.toFixed(0)} ms, ${(sample.disk / 1024).toFixed(1)} MiB\n`);
        }
      }
    }
  } finally {
    await pruneSharedCheckouts(snap.root, { baseDir, all: true });
    await releaseSnapshot(snap);
    rmSync(baseDir, { recursive: true, force: true });
  }
  return result;
}

function seconds(ms: number): string {
  return ms < 1000 ? `${(ms / 1000).toFixed(3)} s` : `${(ms / 1000).toFixed(1)} s`;
}

function report(results: RepoResult[]): void {
  const header = ['repository', 'files', 'checkout', 'shared checkout (once per snapshot)', 'N',
    ...VARIANTS.flatMap((v) => [`${v}: create`, `${v}: remove`, `${v}: disk`])];
  console.log(`\n${ROUNDS} rounds, medians; disk is what the N workspaces add while they exist\n`);
  console.log(`| ${header.join(' | ')} |`);
  console.log(`|${header.map(() => '---').join('|')}|`);
  for (const r of results) {
    for (const count of COUNTS) {
      const cells = VARIANTS.flatMap((variant) => {
        const samples = r.samples.get(`${variant} x${count}`) ?? [];
        const disk = median(samples.map((s) => s.disk)) / 1024;
        return [seconds(median(samples.map((s) => s.create))), seconds(median(samples.map((s) => s.remove))),
          disk < 10 ? `${disk.toFixed(1)} MiB` : `${disk.toFixed(0)} MiB`];
      });
      console.log(`| ${[r.name, r.files.toLocaleString('en'), `${r.checkoutMiB.toFixed(0)} MiB`,
        seconds(median(r.sharedCheckoutMs)), String(count), ...cells].join(' | ')} |`);
    }
  }
}

async function main(): Promise<void> {
  const given = process.argv.slice(2).filter((arg, i, all) => !arg.startsWith('--') && !all[i - 1]?.startsWith('--'));
  const repos = given.map((r) => resolve(r));
  const notRepos = repos.filter((r) => !existsSync(join(r, '.git')));
  if (notRepos.length > 0) throw new Error(`not git repositories: ${notRepos.join(', ')}`);
  const cpus = os.cpus();
  const variants = VARIANTS.length === ALL_VARIANTS.length ? '' : ` --variants ${VARIANTS.join(',').replace('plain git', 'plain')}`;
  console.log(`command: npx tsx bench/isolation.bench.ts --rounds ${ROUNDS} --counts ${COUNTS.join(',')}${variants}${SYNTHETIC ? ` --synthetic ${SYNTHETIC}` : ''} ${given.join(' ')}`.trim());
  console.log(`machine: ${cpus.length} cores (${cpus[0]?.model ?? 'unknown'}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}`);
  console.log(`tools: node ${process.version}, ${benchGit(process.cwd(), ['--version']).trim()}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const isolation = await chooseIsolation('auto');
  if (isolation.kind !== 'overlay') throw new Error(`overlays do not work here: ${isolation.reason}`);
  const results: RepoResult[] = [];
  const sized = repos.map((root) => ({ root, files: benchGit(root, ['ls-files']).split('\n').length })).sort((a, b) => a.files - b.files);
  for (const { root } of sized) {
    results.push(await benchRepo(root, basename(root)));
    // Each repository's rows as soon as they are measured, so a long run that fails later keeps them.
    report(results.slice(-1));
  }
  if (SYNTHETIC > 0) {
    const dir = mkdtempSync(join(os.tmpdir(), 'entropo-bench-synthetic-'));
    try {
      generateRepo(dir, SYNTHETIC);
      results.push(await benchRepo(dir, `synthetic (generated, ${SYNTHETIC.toLocaleString('en')} files)`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  console.log('\nall repositories:');
  report(results);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
