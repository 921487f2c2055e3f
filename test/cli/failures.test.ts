/**
 * `entropo run` against a misbehaving model server (the project's fake OpenAI server, over real HTTP): every
 * failure ends with the batch outcome as the last line on stderr, its exit code, the same outcome in
 * result.json, and no candidate recommended or offered for applying.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../helpers/cli.js';
import { startOpenAiServer, type ChatBody, type OpenAiServerScript, type ScriptedReply } from '../helpers/openAiServer.js';
import { EXAMPLE_DIR, exampleRepo, git, tempDir } from '../helpers/tempRepo.js';

interface Saved {
  outcome: { kind: string; summary: string; recommended?: string; unfit: { id: string; reason: string; detail: string }[] };
  ranking: { recommended?: string };
}

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Runs two rollouts of `entropo run` on the example against a server following `script`. */
async function runAgainst(script: OpenAiServerScript, extra: string[] = []): Promise<CliResult & { url: string; saved: Saved; work: string; lastLine: string }> {
  const server = await startOpenAiServer(script);
  const repo = exampleRepo();
  const work = tempDir();
  cleanups.push(() => server.close(), repo.cleanup, work.cleanup);
  const result = await runCli(['run', '--repo', repo.dir, '--issue', path.join(EXAMPLE_DIR, 'issue.md'), '--base-url', server.url, '--model', 'm',
    '--samples', '2', '--max-steps', '8', '--out', path.join(work.dir, 'out'), '--store', path.join(work.dir, 'store'),
    // The replies are this test's own; where bubblewrap is missing they may run unsandboxed.
    '--allow-unsandboxed', ...extra]);
  const saved = JSON.parse(readFileSync(path.join(work.dir, 'out', 'result.json'), 'utf8')) as Saved;
  return { ...result, url: server.url, saved, work: work.dir, lastLine: result.stderr.trimEnd().split('\n').at(-1) ?? '' };
}

function expectNothingRecommended(run: { stdout: string; saved: Saved }): void {
  expect(run.saved.outcome.recommended).toBeUndefined();
  expect(run.saved.ranking.recommended).toBeUndefined();
  expect(run.stdout).not.toContain('Apply the best');
  expect(run.stdout).toMatch(/^Nothing to apply: /m);
}

const always = (reply: ScriptedReply) => () => reply;
const call = (name: string, args: Record<string, unknown> | string): ScriptedReply =>
  ({ toolCalls: [{ name, arguments: typeof args === 'string' ? args : JSON.stringify(args) }] });
/** The reply for the conversation's next turn: every rollout follows the same script, whatever the interleaving. */
const byTurn = (replies: ScriptedReply[]) => (body: ChatBody) =>
  replies[Math.min(replies.length - 1, (body.messages ?? []).filter((m) => (m as { role: string }).role === 'assistant').length)];

describe('entropo run against a failing model server', () => {
  it.each([500, 429])('HTTP %i on every attempt: failed, exit 4, the status, what it means and the attempts named', async (status) => {
    const run = await runAgainst({ failures: Array(10).fill(status) });
    expect(run.code).toBe(4);
    const said = status === 429 ? `is rate limiting requests: HTTP 429 after 5 attempts: scripted failure 429. Wait and run again, or send fewer requests at once (--concurrency or entropo.concurrency).`
      : `returned HTTP 500 after 5 attempts: scripted failure 500.`;
    expect(run.lastLine).toBe(`entropo: failed: 2 of 2 rollouts failed: the model server at ${run.url} ${said}`);
    expect(run.saved.outcome.kind).toBe('failed');
    expect(run.saved.outcome.unfit.map((u) => u.reason)).toEqual(['failed', 'failed']);
    expectNothingRecommended(run);
    expect(run.stdout).toMatch(/^Diversity: no patch to compare$/m);
  });

  it('a server that accepts the request and never answers: failed at the request timeout, not after ten minutes', async () => {
    const started = Date.now();
    const run = await runAgainst({ hang: true }, ['--request-timeout', '1']);
    expect(run.code).toBe(4);
    expect(run.lastLine).toBe(`entropo: failed: 2 of 2 rollouts failed: the model server at ${run.url} did not start answering within 1 s; check that it is running and not overloaded, or raise the request timeout.`);
    expectNothingRecommended(run);
    expect(Date.now() - started).toBeLessThan(60_000);
  });

  it('a 429 asking to wait 30 s, with a 2 s request timeout: failed, and the process ends then, not after the wait', async () => {
    const busy = { status: 429, headers: { 'retry-after': '30' } };
    const started = Date.now();
    const run = await runAgainst({ failures: Array(10).fill(busy), retryAfterMs: null }, ['--request-timeout', '2']);
    expect(run.code).toBe(4);
    expect(run.saved.outcome.kind).toBe('failed');
    expect(run.lastLine).toMatch(/^entropo: failed: 2 of 2 rollouts failed: the model server at \S+ is rate limiting requests: HTTP 429 after 1 attempt: scripted failure 429\. It asked to wait 30 s before trying again/);
    expect(run.lastLine).not.toContain('did not start answering');
    expectNothingRecommended(run);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('a closed port with a request timeout shorter than the retries: named as unreachable, not as slow', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    const repo = exampleRepo();
    const work = tempDir();
    cleanups.push(repo.cleanup, work.cleanup);
    const run = await runCli(['run', '--repo', repo.dir, '--issue', path.join(EXAMPLE_DIR, 'issue.md'), '--base-url', `http://127.0.0.1:${port}/v1`, '--model', 'm',
      '--samples', '1', '--request-timeout', '2', '--out', path.join(work.dir, 'out'), '--no-record', '--allow-unsandboxed']);
    expect(run.code).toBe(4);
    expect(run.stderr.trimEnd().split('\n').at(-1)).toMatch(new RegExp(`^entropo: failed: 1 of 1 rollouts failed: cannot reach the model server at http://127\\.0\\.0\\.1:${port}/v1 \\(connect ECONNREFUSED [^;]+; retried until the 2 s request timeout\\)`));
  });

  it('a connection reset on every attempt: failed, exit 4', async () => {
    const run = await runAgainst({ responses: always({ reset: true }) });
    expect(run.code).toBe(4);
    expect(run.lastLine).toMatch(new RegExp(`^entropo: failed: 2 of 2 rollouts failed: cannot reach the model server at ${run.url.replace(/[.]/g, '\\.')} \\(.+, 5 attempts\\)`));
    expectNothingRecommended(run);
  });

  it('a reply that is not JSON: failed, exit 4, saying the answer could not be read', async () => {
    const run = await runAgainst({ responses: always({ rawBody: '{"id": "chatcmpl-1", "choices": [' }) });
    expect(run.code).toBe(4);
    expect(run.lastLine).toMatch(new RegExp(`^entropo: failed: 2 of 2 rollouts failed: unexpected answer from the model server at ${run.url.replace(/[.]/g, '\\.')}: .*JSON`));
    expectNothingRecommended(run);
  });

  it.each([
    ['bad tool arguments', call('file_editor', '{"command": "view", "path": '), /Invalid JSON|not valid JSON|JSON/],
    ['an unknown tool', call('delete_everything', { path: '/' }), /delete_everything/],
    ['no tool call', { content: 'The fix is to round up in page_count.' }, /no (tool|function) call|exactly one/i],
  ] as const)('%s three times in a row: failed, exit 4, the last malformed action quoted', async (_what, reply, detail) => {
    const run = await runAgainst({ responses: always(reply) });
    expect(run.code).toBe(4);
    expect(run.lastLine).toMatch(/^entropo: failed: 2 of 2 rollouts failed: the model produced 3 malformed actions in a row; last: ERROR: /);
    expect(run.lastLine).toMatch(detail);
    expect(run.saved.outcome.unfit.map((u) => u.reason)).toEqual(['unfinished', 'unfinished']);
    expectNothingRecommended(run);
  });

  it('answers cut off at --max-new-tokens three times in a row: unfinished at that limit, its flag named, not malformed actions', async () => {
    const cut: ScriptedReply = { toolCalls: [{ name: 'file_editor', arguments: '{"command": "create", "path": "pager/core.py", "file_text": "def page_count(' }], finishReason: 'length' };
    const run = await runAgainst({ responses: always(cut) }, ['--max-new-tokens', '64']);
    expect(run.code).toBe(3);
    expect(run.lastLine).toMatch(/^entropo: no_fit_candidate: none of the 2 candidates is worth applying: r0 unfinished \(did not finish \(limits exceeded\): Answer length limit reached: 3 answers in a row without a usable action, the last cut off at 64 tokens .*--max-new-tokens.*\); r1 unfinished/);
    expect(run.lastLine).not.toContain('malformed');
    // The progress lines, and the trajectory's steps that the panel shows, say the same.
    expect(run.stderr).toMatch(/^ {2}\[r0\] step 1: answer cut off at the token limit$/m);
    expect(run.stderr).not.toMatch(/step \d+: malformed action/);
    expect(run.saved.outcome.unfit.map((u) => u.reason)).toEqual(['unfinished', 'unfinished']);
    expectNothingRecommended(run);
  });

  it('empty choices: failed, exit 4, named as such', async () => {
    const run = await runAgainst({ responses: always({ emptyChoices: true }) });
    expect(run.code).toBe(4);
    expect(run.lastLine).toBe(`entropo: failed: 2 of 2 rollouts failed: the model server at ${run.url} streamed no choice at all (2 chunks without "choices").`);
    expectNothingRecommended(run);
  });

  it('a stream cut off mid-answer: failed, exit 4, reported as truncated rather than as no choices', async () => {
    const run = await runAgainst({ responses: always({ content: 'I will read pager/core.py first, then change the rounding in', truncate: true }) });
    expect(run.code).toBe(4);
    expect(run.lastLine).toMatch(new RegExp(`^entropo: failed: 2 of 2 rollouts failed: the model server at ${run.url.replace(/[.]/g, '\\.')} cut its answer off after \\d+ chunks`));
    expect(run.lastLine).not.toContain('no choice');
    expectNothingRecommended(run);
  });

  it('an 80 MB reply: refused, failed, exit 4, and the store stays small', async () => {
    const huge = 'A'.repeat(80 * 1024 * 1024);
    const run = await runAgainst({ responses: always({ content: huge }) });
    expect(run.code).toBe(4);
    expect(run.lastLine).toMatch(/^entropo: failed: 2 of 2 rollouts failed: the model server at \S+ sent an answer of more than 4000000 characters/);
    expectNothingRecommended(run);
    expect(folderBytes(path.join(run.work, 'store'))).toBeLessThan(1024 * 1024);
    expect(folderBytes(path.join(run.work, 'out'))).toBeLessThan(1024 * 1024);
  });
});

describe('entropo run with candidates that are not worth applying', () => {
  it('symlinks that escape the repository: no fit candidate, exit 3, each candidate with its reason', async () => {
    const run = await runAgainst({ responses: byTurn([
      call('execute_bash', { cmd: 'ln -s / escape_link && rm pager/core.py && ln -s /etc/hostname pager/core.py' }),
      call('finish', { command: 'submit', result: 'Linked what the pager needs.' }),
    ]) });
    expect(run.code).toBe(3);
    expect(run.lastLine).toMatch(/^entropo: no_fit_candidate: none of the 2 candidates is worth applying: r0 invalid \(adds symbolic links that point outside the repository: escape_link -> \/, pager\/core\.py -> \/etc\/hostname\); r1 invalid/);
    expect(run.saved.outcome.kind).toBe('no_fit_candidate');
    expect(run.saved.outcome.unfit.map((u) => `${u.id} ${u.reason}`)).toEqual(['r0 invalid', 'r1 invalid']);
    expectNothingRecommended(run);
  });

  it('a patch that breaks every passing test and fixes none: no fit candidate, exit 3', async () => {
    const run = await runAgainst({ responses: byTurn([
      call('execute_bash', { cmd: 'printf \'def page_count(total, per_page):\\n    raise RuntimeError("rewritten")\\n\' > pager/core.py' }),
      call('finish', { command: 'submit', result: 'Rewrote page_count.' }),
    ]) });
    expect(run.code).toBe(3);
    expect(run.lastLine).toMatch(/^entropo: no_fit_candidate: none of the 2 candidates is worth applying: r0 breaks tests \(breaks 5 of 5 passing tests: test_exact_multiple, .*\); r1 breaks tests \(breaks 5 of 5/);
    expect(run.saved.outcome.unfit.map((u) => u.reason)).toEqual(['breaks_tests', 'breaks_tests']);
    expectNothingRecommended(run);
  });
});

describe('entropo run, a good candidate', () => {
  it('ready: exit 0, the last line names it, and the apply command works from any folder', async () => {
    const fix = byTurn([
      call('file_editor', { command: 'str_replace', path: 'pager/core.py', old_str: 'return total // per_page', new_str: 'return (total + per_page - 1) // per_page' }),
      call('finish', { command: 'submit', result: 'page_count rounds up.' }),
    ]);
    const run = await runAgainst({ responses: fix });
    expect(run.code).toBe(0);
    expect(run.lastLine).toMatch(/^entropo: ready: r[01] is worth applying \(2 of 2 candidates are fit\)$/);
    expect(run.saved.outcome.kind).toBe('ready');
    const command = /^Apply the best with: (git -C \S+ apply \S+)$/m.exec(run.stdout)?.[1];
    expect(command).toBeDefined();
    const [, repoDir, patch] = /^git -C (\S+) apply (\S+)$/.exec(command!)!;
    git(run.work, '-C', repoDir, 'apply', patch);
    expect(readFileSync(path.join(repoDir, 'pager/core.py'), 'utf8')).toContain('return (total + per_page - 1) // per_page');
  });
});

function folderBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += statSync(path.join(entry.parentPath, entry.name)).size;
  }
  return total;
}
