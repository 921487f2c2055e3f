/**
 * Input the CLI cannot use: each mistake is said in one line that names where it is, with the exit code
 * README.md gives it, and never as a stack trace.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tempRepo.js';

interface RankRecord {
  instance_id?: string; line?: number; status: string; reason?: string; error?: string; ranking?: string[];
  signals?: { [id: string]: { finished: { status: string; score?: number } } };
}

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

function work(): string {
  const dir = tempDir();
  cleanups.push(dir.cleanup);
  return dir.dir;
}

/** One input line: an issue with one candidate whose trajectory is `trajectory`. */
const line = (id: string, trajectory?: unknown) => JSON.stringify({
  instance_id: id, problem_statement: 'pages() is off by one',
  candidates: [{ id: 'c', patch: '', ...(trajectory === undefined ? {} : { trajectory }) }],
});

describe('entropo rank with malformed trajectories', () => {
  it('names each bad line and message in an error record, ranks the other issues, exit 1, no stack trace', async () => {
    const dir = work();
    const input = path.join(dir, 'in.jsonl');
    const assistant = { role: 'assistant', content: 'done', tool_calls: [{ id: 't1', function: { name: 'finish', arguments: '{}' } }] };
    writeFileSync(input, [
      line('first', [{ role: 'user', content: 'fix it' }, assistant]),
      line('not-an-object', [{ role: 'user', content: 'fix it' }, null]),
      line('not-a-list', 'fix it, then finish'),
      line('no-function', [{ role: 'assistant', content: null, tool_calls: [{ id: 't1' }] }]),
      line('no-role', [{ content: 'fix it' }]),
      line('parts', [{ role: 'user', content: [{ type: 'text', text: 'fix ' }, { type: 'text', text: 'it' }] }, assistant]),
    ].join('\n'));
    const result = await runCli(['rank', '--candidates', input]);
    expect(result.code).toBe(1);
    expect(result.stderr).not.toMatch(/unexpected error|\n\s+at /);
    const records = result.stdout.trim().split('\n').map((l) => JSON.parse(l) as RankRecord);
    expect(records).toHaveLength(6);
    const by = (id: string) => records.find((r) => r.instance_id === id);
    const invalid = (n: number, error: string) => ({ line: n, status: 'error', reason: 'invalid_input', error: `line ${n}: candidates[0].${error}` });
    expect(by('not-an-object')).toMatchObject(invalid(2, 'trajectory[1] must be a chat message (an object with a role), not null.'));
    expect(by('not-a-list')).toMatchObject(invalid(3, 'trajectory must be a list of chat messages, not "fix it, then finish".'));
    expect(by('no-function')).toMatchObject(invalid(4, 'trajectory[0].tool_calls[0] must be {id, function: {name, arguments}} with strings.'));
    expect(by('no-role')).toMatchObject(invalid(5, 'trajectory[0].role must be one of system, user, assistant, tool, not undefined.'));
    // The well-formed issues are ranked, their trajectories read: each called finish.
    for (const id of ['first', 'parts']) {
      expect(by(id)).toMatchObject({ status: 'ranked', ranking: ['c'] });
      expect(by(id)?.signals?.c.finished).toMatchObject({ status: 'ok', score: 1 });
    }
    expect(result.stderr).toContain(`entropo: could not rank not-an-object (invalid_input): ${input}: line 2: candidates[0].trajectory[1] must be a chat message`);
  });
});

describe('paths that cannot be right: usage errors (exit 2) before any work', () => {
  it('rank --repo-dir that does not exist or is a file: one line, nothing ranked, --out not written', async () => {
    const dir = work();
    const input = path.join(dir, 'in.jsonl');
    const out = path.join(dir, 'out.jsonl');
    writeFileSync(input, `${line('first')}\n`);
    for (const repo of [path.join(dir, 'nonexistent'), input]) {
      const result = await runCli(['rank', '--candidates', input, '--repo-dir', repo, '--out', out]);
      expect([result.code, result.stdout, result.stderr]).toEqual([2, '', `entropo: --repo-dir ${repo} does not exist or is not a folder; give a checkout of the repository.\n`]);
    }
    expect(existsSync(out)).toBe(false);
  });

  it('export --out that is a folder: one line, nothing written in it or next to it', async () => {
    const dir = work();
    const store = path.join(dir, 'store');
    const folder = path.join(dir, 'exports');
    mkdirSync(store);
    mkdirSync(folder);
    const result = await runCli(['export', '--format', 'entropo-dpo', '--store', store, '--out', folder]);
    expect([result.code, result.stdout, result.stderr]).toEqual([2, '', `entropo: --out ${folder} is a folder; give the file to write.\n`]);
    expect(readdirSync(dir).sort()).toEqual(['exports', 'store']);
    expect(readdirSync(folder)).toEqual([]);
  });
});
