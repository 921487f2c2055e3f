/**
 * `entropo run` end to end on a small and a large repository, with 8 scripted rollouts of two steps (an edit,
 * then finish) and no model latency: what is left is isolation, verification (the repository's tests before
 * and with each candidate), ranking and recording. Each repository is the bundled example grown with
 * generated files; it has a pytest.ini naming its tests folder, as a real project would, so that the test
 * runner's own walk over the tree stays out of the comparison. Each configuration runs the real CLI as a
 * child process: `cold` is the first run (the shared checkout is made), `warm` a second run on the same
 * snapshot. The worktree rows force the product's fallback the way a machine without overlays gets it:
 * the workspaces' folder (under TMPDIR) has a comma, which overlay mount options cannot carry.
 *
 *   npm run build && npx tsx bench/runScale.bench.ts [--rounds 3] [--sizes 200,30000] [--samples 8]
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { formatTextAction } from '../src/core/llm/textFormat.js';
import { addGeneratedFiles, benchGit } from './syntheticRepo.js';

const ROOT = join(__dirname, '..');
const EXAMPLE = join(ROOT, 'examples', 'pagination');

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : fallback;
}

const ROUNDS = Number(option('rounds', '3'));
const SIZES = option('sizes', '200,30000').split(',').map(Number);
const SAMPLES = Number(option('samples', '8'));
const ISOLATIONS = ['overlay', 'worktree'] as const;

/** The example repository grown to `files` files, committed once. */
function grownRepo(dir: string, files: number): string {
  const repo = join(dir, `repo-${files}`);
  cpSync(join(EXAMPLE, 'repo'), repo, { recursive: true });
  writeFileSync(join(repo, 'pytest.ini'), '[pytest]\ntestpaths = tests\n');
  const own = benchGit(ROOT, ['ls-files', '--', 'examples/pagination/repo']).split('\n').filter(Boolean).length + 1;
  addGeneratedFiles(repo, Math.max(0, files - own));
  benchGit(repo, ['init', '-q', '-b', 'main']);
  benchGit(repo, ['add', '-A']);
  benchGit(repo, ['-c', 'commit.gpgsign=false', '-c', 'gc.auto=0', 'commit', '-q', '-m', 'grown example']);
  benchGit(repo, ['gc', '-q']);
  return repo;
}

/** One `entropo run`; returns its wall time in ms and the isolation its result.json reports. */
function entropoRun(repo: string, script: string, tmp: string, out: string): { ms: number; isolation: string } {
  const args = [join(ROOT, 'dist', 'cli.js'), 'run', '--repo', repo, '--issue', join(EXAMPLE, 'issue.md'), '--script', script,
    '--samples', String(SAMPLES), '--out', out, '--no-record', '--allow-unsandboxed'];
  const start = performance.now();
  const child = spawnSync(process.execPath, args, { env: { ...process.env, TMPDIR: tmp }, encoding: 'utf8', maxBuffer: 64 << 20 });
  const ms = performance.now() - start;
  if (child.status !== 0) throw new Error(`entropo run failed (${child.status}): ${child.stderr.split('\n').slice(-5).join('\n')}`);
  const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as { batch: { isolation: { kind: string } } };
  return { ms, isolation: result.batch.isolation.kind };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function main(): void {
  const cpus = os.cpus();
  console.log(`command: npx tsx bench/runScale.bench.ts --rounds ${ROUNDS} --sizes ${SIZES.join(',')} --samples ${SAMPLES}`);
  console.log(`machine: ${cpus.length} cores (${cpus[0]?.model ?? 'unknown'}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}`);
  console.log(`tools: node ${process.version}, ${benchGit(ROOT, ['--version']).trim()}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const work = mkdtempSync(join(os.tmpdir(), 'entropo-bench-run-'));
  try {
    const script = join(work, 'two-steps.json');
    writeFileSync(script, JSON.stringify({ model: 'scripted-two-steps', responses: [
      formatTextAction('file_editor', { command: 'str_replace', path: 'pager/core.py', old_str: 'return total // per_page', new_str: 'return -(-total // per_page)' }),
      formatTextAction('finish', { command: 'submit', result: 'page_count rounds up.' }),
    ].map((content) => ({ content: `Round up.\n\n${content}` })) }));
    const repos = new Map(SIZES.map((size) => [size, grownRepo(work, size)]));
    const tmps = { overlay: join(work, 'tmp'), worktree: join(work, 'tmp,fallback') };
    for (const tmp of Object.values(tmps)) mkdirSync(tmp);
    const walls = new Map<string, number[]>();
    const seen = new Map<string, string>();
    let n = 0;
    for (let round = 0; round < ROUNDS; round++) {
      for (const isolation of round % 2 ? [...ISOLATIONS].reverse() : ISOLATIONS) {
        for (const size of round % 2 ? [...SIZES].reverse() : SIZES) {
          // Cold: nothing of an earlier run left, so the shared checkout is made; warm: the same snapshot again.
          rmSync(join(tmps[isolation], 'entropo-worktrees'), { recursive: true, force: true });
          for (const phase of ['cold', 'warm']) {
            const { ms, isolation: reported } = entropoRun(repos.get(size)!, script, tmps[isolation], join(work, `out-${n++}`));
            const key = `${isolation} ${size} ${phase}`;
            walls.set(key, [...(walls.get(key) ?? []), ms]);
            seen.set(isolation, reported);
            process.stderr.write(`round ${round + 1} ${key}: ${(ms / 1000).toFixed(2)} s (${reported})\n`);
          }
        }
      }
    }
    for (const [isolation, reported] of seen) if (reported !== isolation) throw new Error(`asked for ${isolation}, result.json says ${reported}`);
    console.log(`\n${ROUNDS} rounds, median wall time of \`entropo run --samples ${SAMPLES}\` (2-step scripted rollouts, tests, ranking)\n`);
    const [small, large] = [SIZES[0], SIZES[SIZES.length - 1]];
    console.log(`| isolation | run | ${SIZES.map((s) => `${s.toLocaleString('en')} files`).join(' | ')} | ${large.toLocaleString('en')} / ${small.toLocaleString('en')} |`);
    console.log(`|---|---|${SIZES.map(() => '---').join('|')}|---|`);
    for (const isolation of ISOLATIONS) {
      for (const phase of ['cold', 'warm']) {
        const med = (size: number) => median(walls.get(`${isolation} ${size} ${phase}`) ?? []);
        console.log(`| ${isolation} | ${phase} | ${SIZES.map((s) => `${(med(s) / 1000).toFixed(2)} s`).join(' | ')} | ${(med(large) / med(small)).toFixed(2)}x |`);
      }
    }
    // Our own temporary files (indexes, sandboxes' /tmp, reports) must all be gone; the workspaces' folder keeps the shared checkout.
    const leftovers = Object.values(tmps).flatMap((tmp) => readdirSync(tmp)).filter((d) => d.startsWith('entropo') && d !== 'entropo-worktrees');
    if (leftovers.length > 0) console.log(`left in the temp folders: ${leftovers.join(', ')}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main();
