import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as vscode from 'vscode';
import type { OpenAiServer } from '../../helpers/openAiServer.js';
import { startFixtureServer } from '../fixtureServer.js';
import { e2eEnv, git, ourExtension, runCommand, waitFor, workspaceRoot } from '../helpers.js';
import { suite } from '../suite.js';

const run = promisify(execFile);

interface StoreLine { kind: string; candidateId?: string; decision?: string; candidates?: { id: string }[]; ranking?: { order: string[] } }

/** Every record of the preference store in `dir`, in file order. */
function records(dir: string): StoreLine[] {
  return readdirSync(dir).filter((f) => /^records-.*\.jsonl$/.test(f)).sort()
    .flatMap((f) => readFileSync(path.join(dir, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as StoreLine));
}

/** Processes whose working folder is one of our workspaces (inside an overlay's namespace, its path there). */
function processesInWorktrees(): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readlinkSync(`/proc/${pid}/cwd`).includes('entropo-worktrees')) found.push(pid);
    } catch {
      // Gone, or not ours to read.
    }
  }
  return found;
}

/** Batch folders (overlays or worktrees) of runs on the workspace's repository; the shared checkout is not one. */
function batchesOfRun(): string[] {
  const repoHash = createHash('sha256').update(realpathSync(workspaceRoot().fsPath)).digest('hex').slice(0, 16);
  const dir = path.join(tmpdir(), 'entropo-worktrees', repoHash);
  return existsSync(dir) ? readdirSync(dir).filter((name) => existsSync(path.join(dir, name, 'owner.json'))) : [];
}

/** The bundled example end to end: Fix Issue against a scripted OpenAI server, then Apply, Reject, Cancel. */
export default suite('fix issue', ({ test, after }) => {
  const store = mkdtempSync(path.join(tmpdir(), 'entropo-e2e-store-'));
  const issue = readFileSync(path.join(e2eEnv.example, 'issue.md'), 'utf8');
  const core = () => readFileSync(path.join(workspaceRoot().fsPath, 'pager/core.py'), 'utf8');
  let server: OpenAiServer | undefined;

  test('Fix Issue ranks the four candidates, records the task and leaves the working tree untouched', async () => {
    await ourExtension().activate();
    await vscode.workspace.getConfiguration('entropo').update('storeDirectory', store, vscode.ConfigurationTarget.Global);
    server = await startFixtureServer(e2eEnv.example);
    const before = core();
    await runCommand('entropo.fixIssue', issue);
    assert.equal(core(), before);
    assert.equal(await git(['status', '--porcelain']), '');
    assert.equal((await git(['worktree', 'list'])).trim().split('\n').length, 1);
    const tasks = records(store).filter((r) => r.kind === 'task');
    assert.equal(tasks.length, 1);
    assert.deepEqual(tasks[0].candidates!.map((c) => c.id), ['r0', 'r1', 'r2', 'r3']);
    // The correct fixes first, plus-one (breaks 3 tests) last.
    assert.deepEqual(tasks[0].ranking!.order.slice(0, 2).sort(), ['r0', 'r1']);
    assert.deepEqual(tasks[0].ranking!.order.slice(2), ['r3', 'r2']);
    const chat = server.requests.filter((r) => r.path.endsWith('/chat/completions'));
    assert.deepEqual([...new Set(chat.map((r) => r.body.seed))].sort(), [100, 101, 102, 103]);
  }, 240_000);

  test('Apply writes the candidate as an uncommitted change; the example\'s tests then pass', async () => {
    await runCommand('entropo.applyCandidate', 'r0');
    assert.match(core(), /return \(total \+ per_page - 1\) \/\/ per_page/);
    assert.equal(await git(['status', '--porcelain']), ' M pager/core.py\n');
    const tests = await run('python3', ['-m', 'unittest', '-q'], { cwd: workspaceRoot().fsPath });
    assert.match(tests.stderr, /OK/);
    assert.ok(records(store).some((r) => r.kind === 'decision' && r.candidateId === 'r0' && r.decision === 'applied'));
  }, 60_000);

  test('Apply refuses, naming the file, when it changed since the candidates were made', async () => {
    const applied = core();
    await runCommand('entropo.applyCandidate', 'r1');
    assert.equal(core(), applied);
    assert.ok(!records(store).some((r) => r.kind === 'decision' && r.candidateId === 'r1'));
  }, 60_000);

  test('Reject records a decision', async () => {
    await runCommand('entropo.rejectCandidate', 'r2');
    assert.ok(records(store).some((r) => r.kind === 'decision' && r.candidateId === 'r2' && r.decision === 'rejected'));
  }, 30_000);

  test('Compare opens the native diff editor over read-only documents of the two candidates', async () => {
    await runCommand('entropo.compareCandidates', 'r0', 'r1');
    const tab = await waitFor(() => {
      const active = vscode.window.tabGroups.activeTabGroup.activeTab;
      return active?.input instanceof vscode.TabInputTextDiff ? active.input : undefined;
    }, { timeoutMs: 20_000, what: 'a diff editor' });
    assert.equal(tab.original.scheme, 'entropo-candidate');
    assert.equal(tab.modified.path, '/pager/core.py');
    assert.match((await vscode.workspace.openTextDocument(tab.original)).getText(), /return \(total \+ per_page - 1\) \/\/ per_page/);
    assert.match((await vscode.workspace.openTextDocument(tab.modified)).getText(), /return math\.ceil\(total \/ per_page\)/);
    await runCommand('workbench.action.closeAllEditors');
  }, 60_000);

  test('Taking an applied candidate back (git checkout) records it as reverted; editing it further does not', async () => {
    const file = path.join(workspaceRoot().fsPath, 'pager/core.py');
    writeFileSync(file, `${core()}\n# reviewed\n`);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    assert.ok(!records(store).some((r) => r.kind === 'decision' && r.decision === 'reverted'), 'an edit on top of the candidate is not a revert');
    await git(['checkout', '--', '.']);
    const reverted = await waitFor(() => records(store).find((r) => r.kind === 'decision' && r.decision === 'reverted'),
      { timeoutMs: 20_000, what: 'a reverted decision' });
    assert.equal(reverted.candidateId, 'r0');
    const decisions = records(store).filter((r) => r.kind === 'decision').map((r) => `${r.candidateId} ${r.decision}`);
    assert.deepEqual(decisions, ['r0 applied', 'r2 rejected', 'r0 reverted']);
  }, 60_000);

  test('Cancel stops the run and leaves no workspace and no process behind', async () => {
    await server?.close();
    server = await startFixtureServer(e2eEnv.example, { delayMs: 1_500 });
    const running = runCommand('entropo.fixIssue', issue);
    await waitFor(() => batchesOfRun().length > 0, { timeoutMs: 60_000, what: 'workspaces of the run' });
    await waitFor(() => server!.requests.length >= 2, { timeoutMs: 30_000, what: 'the first model calls' });
    await runCommand('entropo.cancelRun');
    await running;
    assert.deepEqual(batchesOfRun(), []);
    assert.equal((await git(['worktree', 'list'])).trim().split('\n').length, 1);
    assert.deepEqual(processesInWorktrees(), []);
    assert.equal(await git(['status', '--porcelain']), '');
    writeFileSync(path.join(e2eEnv.artifacts, 'cancel-requests.txt'), `${server.requests.length} requests before the cancel took effect\n`);
  }, 180_000);

  after(async () => {
    await server?.close();
    await vscode.workspace.getConfiguration('entropo').update('storeDirectory', undefined, vscode.ConfigurationTarget.Global);
  });
});
