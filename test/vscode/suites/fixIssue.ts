import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as vscode from 'vscode';
import type { OpenAiServer } from '../../helpers/openAiServer.js';
import { startFixtureServer } from '../fixtureServer.js';
import type { ReviewState } from '../../../src/protocol/messages.js';
import type { DeleteOutcome } from '../../../src/vscode/deleteRecordedData.js';
import { e2eEnv, git, openFile, ourExtension, runCommand, waitFor, workspaceRoot } from '../helpers.js';
import { suite } from '../suite.js';

const run = promisify(execFile);

interface StoreLine { kind: string; candidateId?: string; decision?: string; by?: string; status?: string; candidates?: { id: string }[]; ranking?: { order: string[] } }

/** The store's decisions in file order, as "r0 applied", "r0 replaced by r1". */
function decisions(dir: string): string[] {
  return records(dir).filter((r) => r.kind === 'decision').map((r) => `${r.candidateId} ${r.decision}${r.by ? ` by ${r.by}` : ''}`);
}

/** Every record of the preference store in `dir`, in file order. */
function records(dir: string): StoreLine[] {
  if (!existsSync(dir)) return [];
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
  let firstRun = '';
  const R0 = /return \(total \+ per_page - 1\) \/\/ per_page/;
  const R1 = /return math\.ceil\(total \/ per_page\)/;
  /** The DPO pairs and KTO labels an export of the store writes now, by candidate id. */
  const exported = async (format: string) => {
    const out = path.join(store, `export-${format}.jsonl`);
    // Nothing to export leaves no file: the one of an earlier call must not be read as this one's.
    rmSync(out, { force: true });
    await runCommand('entropo.exportPreferences', { format, out });
    return (existsSync(out) ? readFileSync(out, 'utf8') : '').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { label?: boolean; meta: { candidate_ids?: string[]; candidate_id?: string } });
  };
  const exportedPairs = async () => (await exported('entropo-dpo')).map((l) => l.meta.candidate_ids!.join('>')).sort();
  const exportedLabels = async () => Object.fromEntries((await exported('entropo-kto')).map((l) => [l.meta.candidate_id!, l.label]));

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
    const review = await runCommand<ReviewState>('entropo.showRun');
    firstRun = review.runId;
    const chat = server.requests.filter((r) => r.path.endsWith('/chat/completions'));
    // The rollouts, each with its seed; and the agent's endpoint as the judge by default, asked once: it
    // returns no logprobs, which the run says once instead of per card.
    const judged = chat.filter((r) => r.body.logprobs === true);
    assert.deepEqual([...new Set(chat.filter((r) => !r.body.logprobs).map((r) => r.body.seed))].sort(), [100, 101, 102, 103]);
    assert.equal(judged.length, 1);
    assert.match(review.outcome?.notes?.join('\n') ?? '', /^The judge scored no candidate: the endpoint returned no logprobs/);
  }, 240_000);

  test('Apply writes the candidate as an uncommitted change; the example\'s tests then pass', async () => {
    await runCommand('entropo.applyCandidate', 'r0');
    assert.match(core(), R0);
    assert.equal(await git(['status', '--porcelain']), ' M pager/core.py\n');
    const tests = await run('python3', ['-m', 'unittest', '-q'], { cwd: workspaceRoot().fsPath });
    assert.match(tests.stderr, /OK/);
    assert.deepEqual(decisions(store), ['r0 applied']);
    const review = await runCommand<ReviewState>('entropo.showRun');
    assert.equal(review.candidates.find((c) => c.id === 'r0')?.decision, 'applied');
  }, 60_000);

  test('Apply on a second candidate replaces the first: one undo step, recorded as replaced (no rejection)', async () => {
    await runCommand('entropo.applyCandidate', { candidateId: 'r1', confirm: true });
    assert.match(core(), R1);
    assert.doesNotMatch(core(), R0);
    assert.deepEqual(decisions(store), ['r0 applied', 'r0 replaced by r1', 'r1 applied']);
    // One Undo in the editor takes the whole switch back (r0 again), one Redo puts r1 back.
    const editor = await openFile('pager/core.py');
    await runCommand('undo');
    assert.match(editor.document.getText(), R0);
    await runCommand('redo');
    assert.match(editor.document.getText(), R1);
    assert.equal(editor.document.isDirty, false);
    await runCommand('workbench.action.closeAllEditors');
  }, 60_000);

  test('Undoing the Replace in the editor and saving puts r0 back: r1 is recorded as reverted, r0 as applied; a Redo swaps them back', async () => {
    const editor = await openFile('pager/core.py');
    await runCommand('undo');
    assert.match(editor.document.getText(), R0);
    await editor.document.save();
    await waitFor(() => decisions(store).slice(3).join(', ') === 'r1 reverted, r0 applied', { timeoutMs: 20_000, what: 'r1 reverted and r0 applied' });
    let review = await runCommand<ReviewState>('entropo.showRun');
    assert.deepEqual(review.candidates.filter((c) => c.decision).map((c) => [c.id, c.decision]).sort(), [['r0', 'applied'], ['r1', 'reverted']]);
    await runCommand('redo');
    assert.match(editor.document.getText(), R1);
    await editor.document.save();
    await waitFor(() => decisions(store).slice(5).join(', ') === 'r0 reverted, r1 applied', { timeoutMs: 20_000, what: 'r0 reverted and r1 applied' });
    review = await runCommand<ReviewState>('entropo.showRun');
    assert.deepEqual(review.candidates.filter((c) => c.decision).map((c) => [c.id, c.decision]).sort(), [['r0', 'reverted'], ['r1', 'applied']]);
    await runCommand('workbench.action.closeAllEditors');
  }, 60_000);

  test('Apply refuses, naming the file, when the user changed it since the candidates were made', async () => {
    const file = path.join(workspaceRoot().fsPath, 'pager/core.py');
    const applied = core();
    writeFileSync(file, `${applied}# my own edit\n`);
    await runCommand('entropo.applyCandidate', { candidateId: 'r3', confirm: true });
    assert.equal(core(), `${applied}# my own edit\n`);
    assert.ok(!decisions(store).some((d) => d.startsWith('r3')));
    writeFileSync(file, applied);
  }, 60_000);

  test('Undo Apply takes the applied candidate out; Reject on an applied candidate removes its change', async () => {
    await runCommand('entropo.undoApply', 'r1');
    assert.equal(await git(['status', '--porcelain']), '');
    await runCommand('entropo.applyCandidate', 'r1');
    assert.match(core(), R1);
    await runCommand('entropo.rejectCandidate', { candidateId: 'r1', confirm: true });
    assert.equal(await git(['status', '--porcelain']), '', 'the rejected candidate\'s change is gone');
    await runCommand('entropo.rejectCandidate', 'r2');
    await runCommand('entropo.applyCandidate', 'r0');
    assert.deepEqual(decisions(store).slice(7), ['r1 undone', 'r1 applied', 'r1 rejected', 'r2 rejected', 'r0 applied']);
    const review = await runCommand<ReviewState>('entropo.showRun');
    assert.deepEqual(review.candidates.map((c) => [c.id, c.decision]).sort(), [['r0', 'applied'], ['r1', 'rejected'], ['r2', 'rejected'], ['r3', undefined]]);
    // What the training data makes of it: r0 over each rejected one; r3 was never decided on.
    assert.deepEqual(await exportedPairs(), ['r0>r1', 'r0>r2']);
  }, 60_000);

  test('Reject on an applied candidate the user edited since is recorded; its change stays, with their edit', async () => {
    const file = path.join(workspaceRoot().fsPath, 'pager/core.py');
    const edited = `${core()}# my note\n`;
    writeFileSync(file, edited);
    await runCommand('entropo.rejectCandidate', { candidateId: 'r0', confirm: true });
    assert.equal(core(), edited, 'the user\'s edit is never overwritten');
    assert.equal(decisions(store).at(-1), 'r0 rejected');
    assert.equal((await runCommand<ReviewState>('entropo.showRun')).candidates.find((c) => c.id === 'r0')?.decision, 'rejected');
    assert.deepEqual(await exportedLabels(), { r0: false, r1: false, r2: false });
    // Back to r0 applied, as the tests after this one expect.
    await git(['checkout', '-q', '--', 'pager/core.py']);
    await runCommand('entropo.applyCandidate', 'r0');
    assert.equal(decisions(store).at(-1), 'r0 applied');
  }, 60_000);

  test('Compare opens the native diff editor over read-only documents of the two candidates', async () => {
    await runCommand('entropo.compareCandidates', 'r0', 'r1');
    const tab = await waitFor(() => {
      const active = vscode.window.tabGroups.activeTabGroup.activeTab;
      return active?.input instanceof vscode.TabInputTextDiff ? active.input : undefined;
    }, { timeoutMs: 20_000, what: 'a diff editor' });
    assert.equal(tab.original.scheme, 'entropo-candidate');
    assert.equal(tab.modified.path, '/pager/core.py');
    assert.match((await vscode.workspace.openTextDocument(tab.original)).getText(), R0);
    assert.match((await vscode.workspace.openTextDocument(tab.modified)).getText(), R1);
    await runCommand('workbench.action.closeAllEditors');
  }, 60_000);

  test('A decision the store cannot take is kept with the run and recorded before the next one, in order', async () => {
    // The store's folder replaced by a file: every write to it fails, as on a full disk or a removed mount.
    const away = `${store}.away`;
    renameSync(store, away);
    writeFileSync(store, 'not a folder');
    try {
      await runCommand('entropo.undoApply', 'r0');
      assert.equal(await git(['status', '--porcelain']), '', 'the working tree changed as asked');
      const review = await runCommand<ReviewState>('entropo.showRun');
      assert.equal(review.candidates.find((c) => c.id === 'r0')?.decision, 'undone');
    } finally {
      rmSync(store);
      renameSync(away, store);
    }
    assert.ok(!decisions(store).includes('r0 undone'), 'nothing was written while the store was gone');
    await runCommand('entropo.applyCandidate', 'r0');
    assert.deepEqual(decisions(store).slice(-3), ['r0 applied', 'r0 undone', 'r0 applied']);
    assert.match(core(), R0);
  }, 60_000);

  test('A candidate\'s diff is labelled "snapshot ↔ id", and its title bar moves on to the next candidate', async () => {
    const review = await runCommand<ReviewState>('entropo.showRun');
    const [first, second] = review.candidates.map((c) => c.id);
    const right = vscode.Uri.from({ scheme: 'entropo-candidate', path: '/pager/core.py', query: new URLSearchParams({ run: review.runId, side: first }).toString() });
    await runCommand('entropo.nextCandidateDiff', right);
    const tab = await waitFor(() => {
      const active = vscode.window.tabGroups.activeTabGroup.activeTab;
      return active?.input instanceof vscode.TabInputTextDiff ? active : undefined;
    }, { timeoutMs: 20_000, what: 'the next candidate\'s diff' });
    assert.equal(tab.label, `snapshot ↔ ${second}: pager/core.py`);
    const menus = (ourExtension().packageJSON as { contributes: { menus: Record<string, { command: string; when: string }[]> } }).contributes.menus['editor/title'];
    assert.deepEqual(menus.map((m) => m.command), ['entropo.applyFromDiff', 'entropo.rejectFromDiff', 'entropo.nextCandidateDiff']);
    await runCommand('workbench.action.closeAllEditors');
  }, 60_000);

  test('Taking an applied candidate back (git stash) records it as reverted, which is no rejection; editing it further does not; popping it back records it as applied again', async () => {
    const file = path.join(workspaceRoot().fsPath, 'pager/core.py');
    const applied = core();
    const before = decisions(store).length;
    writeFileSync(file, `${applied}\n# reviewed\n`);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    assert.equal(decisions(store).length, before, 'an edit on top of the candidate is not a revert');
    writeFileSync(file, applied);
    await git(['-c', 'user.name=e2e', '-c', 'user.email=e2e@example.com', 'stash', '-q']);
    await waitFor(() => decisions(store).at(-1) === 'r0 reverted', { timeoutMs: 20_000, what: 'a reverted decision' });
    assert.deepEqual(await exportedPairs(), [], 'r0 is no longer chosen, and nothing counts it as rejected');
    assert.deepEqual(await exportedLabels(), { r1: false, r2: false });
    await git(['stash', 'pop', '-q']);
    await waitFor(() => decisions(store).at(-1) === 'r0 applied', { timeoutMs: 20_000, what: 'r0 applied again' });
    assert.equal((await runCommand<ReviewState>('entropo.showRun')).candidates.find((c) => c.id === 'r0')?.decision, 'applied');
    assert.deepEqual(await exportedPairs(), ['r0>r1', 'r0>r2']);
  }, 60_000);

  test('Committing an applied candidate as it is (after the stash pop) records it as kept, which is an acceptance', async () => {
    assert.match(core(), R0);
    const head = (await git(['rev-parse', 'HEAD'])).trim();
    try {
      await git(['-c', 'user.name=e2e', '-c', 'user.email=e2e@example.com', 'commit', '-qam', 'fix page_count']);
      await waitFor(() => decisions(store).includes('r0 kept'), { timeoutMs: 20_000, what: 'a kept decision' });
      assert.deepEqual(await exportedPairs(), ['r0>r1', 'r0>r2']);
    } finally {
      // The rest of the suites start from the example as it was.
      await git(['reset', '-q', '--hard', head]);
    }
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
    // The cancelled run says so, recommends nothing and folds its candidates away; none of them can be applied.
    const cancelled = await runCommand<ReviewState>('entropo.showRun');
    assert.equal(cancelled.outcome?.kind, 'cancelled');
    assert.equal(cancelled.candidates.filter((c) => c.recommended).length, 0);
    const stopped = cancelled.candidates.filter((c) => c.exitReason === 'cancelled');
    assert.ok(stopped.length > 0);
    for (const c of stopped) {
      assert.match(c.unfit ?? '', /^cancelled/);
      assert.equal(c.folded, true);
      assert.doesNotMatch(c.signals.find((x) => x.name === 'regression')?.detail ?? '', /tests not enabled/);
    }
    const before = decisions(store).length;
    await runCommand('entropo.applyCandidate', { candidateId: stopped[0].id, confirm: true });
    assert.equal(decisions(store).length, before, 'an empty candidate of the cancelled run is never applied');
    // A rollout the cancel cut short is nothing of the model's to reject: no Reject, and none recorded.
    assert.match(stopped[0].untrainable ?? '', /a cancelled run never becomes training data$/);
    await runCommand('entropo.rejectCandidate', { candidateId: stopped[0].id, confirm: true });
    assert.equal(decisions(store).length, before);
    assert.equal(await git(['status', '--porcelain']), '');
    // Recorded, marked, and kept out of the training data; Show Candidates comes back to the real run.
    const tasks = records(store).filter((r) => r.kind === 'task');
    assert.equal(tasks.length, 2);
    assert.equal(tasks[1].status, 'cancelled');
    assert.deepEqual(await exportedPairs(), ['r0>r1', 'r0>r2']);
    const shown = await runCommand<ReviewState>('entropo.showCandidates');
    assert.equal(shown.runId, firstRun);
    assert.deepEqual(shown.candidates.map((c) => c.id).sort(), ['r0', 'r1', 'r2', 'r3']);
    // A candidate named with its run (as the first run's "Apply r0" notice does) is that run's, whichever run is shown.
    await runCommand('entropo.showRun', cancelled.runId);
    const decided = decisions(store).length;
    await runCommand('entropo.applyCandidate', { runId: firstRun, candidateId: 'r0', confirm: true });
    assert.match(core(), R0);
    assert.deepEqual(decisions(store).slice(decided), ['r0 applied']);
    const nowShown = await runCommand<ReviewState>('entropo.showRun');
    assert.equal(nowShown.runId, firstRun);
    assert.equal(nowShown.candidates.find((c) => c.id === 'r0')?.decision, 'applied');
    await runCommand('entropo.undoApply', { runId: firstRun, candidateId: 'r0' });
    assert.equal(await git(['status', '--porcelain']), '');
  }, 180_000);

  test('After Delete Recorded Data the runs stay, and what is decided about them is no longer recorded', async () => {
    const outcome = await runCommand<DeleteOutcome>('entropo.deleteRecordedData', { confirm: true });
    assert.deepEqual([outcome.dir, outcome.tasks], [store, 2]);
    assert.deepEqual(records(store), []);
    await runCommand('entropo.rejectCandidate', { runId: firstRun, candidateId: 'r3', confirm: true });
    const shown = await runCommand<ReviewState>('entropo.showRun', firstRun);
    assert.equal(shown.candidates.find((c) => c.id === 'r3')?.decision, 'rejected');
    assert.deepEqual(records(store), [], 'no decision about a deleted task is written');
  }, 60_000);

  after(async () => {
    await server?.close();
    await vscode.workspace.getConfiguration('entropo').update('storeDirectory', undefined, vscode.ConfigurationTarget.Global);
    rmSync(store, { recursive: true, force: true });
  });
});
