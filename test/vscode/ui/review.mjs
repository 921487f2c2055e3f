// The review panel as a user sees it: Configure Model from the command palette (the API key into secret
// storage), then Fix Issue on the example, against the scripted OpenAI server that requires that key; the
// key is nowhere on disk afterwards. The panel lists the ranked candidates with their signals, shows a trajectory, and
// Apply changes the file on disk. Then Fine-Tune, as a user runs it: on the pair recorded in the panel (r1
// applied, r2 rejected), a tiny model as the base, no GPU so the CPU fallback is offered and taken; the
// training panel shows the finished run (one pair: one optimizer step), also after a window reload. One file, because the workbench keeps
// its state (the last run) in the browser's storage, which a new window here would not have.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const EXAMPLE = path.join(ROOT, 'examples', 'pagination');
const VENV = path.join(ROOT, 'trainer', '.venv');
const QUICK_INPUT = '.quick-input-widget';
const API_KEY = 'sk-e2e-3f9a7c1d5b2e8a4f6c0d9e7b1a3c5f2e';
const MODEL = path.join(mkdtempSync(path.join(tmpdir(), 'entropo-e2e-train-')), 'tiny-model');
const ISSUE_TITLE = readFileSync(path.join(EXAMPLE, 'issue.md'), 'utf8').split('\n')[0];

/** `git status --porcelain` of the workspace: what a user sees as changed. */
function gitStatus(workspace) {
  return execFileSync('git', ['status', '--porcelain'], { cwd: workspace, encoding: 'utf8' });
}

/** Sets user settings the way the Settings editor would, in the user and the machine (remote) settings files. */
function setSettings(workspace, values) {
  for (const scope of ['User', 'Machine']) {
    const file = path.join(path.dirname(workspace), 'user-data', scope, 'settings.json');
    const current = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify({ ...current, ...values }, null, 2));
  }
}

/**
 * Waits for the quick input titled `title`, types `text` (a filter, or a path in the editor's own file
 * dialog) and accepts: with the button labelled `button` where given (the file dialog's), else with Enter.
 */
async function answer(ui, title, text, button) {
  const widget = ui.page.locator(QUICK_INPUT, { hasText: title });
  await widget.waitFor({ timeout: 30_000 });
  // The file dialog fills in its starting folder after it opens, over anything typed before that.
  if (button) await widget.locator('.quick-input-list .monaco-list-row').first().waitFor({ timeout: 10_000 });
  if (text !== undefined) await ui.page.locator(`${QUICK_INPUT} .quick-input-box input`).fill(text);
  if (button) {
    await widget.locator('.quick-input-list .monaco-list-row', { hasText: '..' }).first().waitFor({ timeout: 10_000 });
    await ui.page.waitForTimeout(500);
    await widget.locator('.monaco-button', { hasText: button }).click();
  } else await ui.page.keyboard.press('Enter');
  await widget.waitFor({ state: 'hidden', timeout: 10_000 }).catch(() => undefined);
}

/** Fix Issue from the palette on the example's issue, typed in as a user does. */
async function fixIssue(ui) {
  await ui.command('EntroPO: Fix Issue...');
  const input = ui.page.locator('.quick-input-widget .quick-input-box input');
  await ui.page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: 'Type the issue' }).first().waitFor({ timeout: 30_000 });
  await input.fill('Type the issue');
  await ui.page.keyboard.press('Enter');
  await ui.page.locator('.quick-input-widget', { hasText: 'Describe the issue to fix' }).waitFor({ timeout: 10_000 });
  await input.fill(ISSUE_TITLE);
  await ui.page.keyboard.press('Enter');
}

/** Every record of the workspace's preference store (in the editor's workspace storage), in file order. */
function storeRecords(workspace) {
  const files = execFileSync('find', [path.dirname(workspace), '-path', '*/store/records-*.jsonl'], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
  return files.flatMap((f) => readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)));
}

/**
 * Waits until the review panel's card titles (`li.candidate h2`) satisfy `test`; returns the panel's frame,
 * found again on every try (the editor may rebuild a webview it hid).
 */
async function reviewWhen(ui, test, what, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // Only the review panel's cards have a Compare button; the training panel is open too.
    const frame = await ui.webview({ contains: 'Compare', timeoutMs: 1_000 }).catch(() => undefined);
    const titles = frame ? await frame.locator('li.candidate h2').allInnerTexts().catch(() => []) : [];
    if (frame && titles.length > 0 && test(titles)) return frame;
    if (Date.now() > deadline) throw new Error(`${what}: the panel shows ${JSON.stringify(titles)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The training panel's content frame, once it shows `text`. */
function trainPanel(ui, text, timeoutMs) {
  return ui.webview({ contains: `Fine-tuning tiny-model`, timeoutMs }).then(async (frame) => {
    await frame.locator('header .facts', { hasText: text }).waitFor({ timeout: timeoutMs });
    return frame;
  });
}

let server;
// A failed step must not leave the server holding its port for the next run.
process.on('exit', () => {
  server?.kill('SIGTERM');
  rmSync(path.dirname(MODEL), { recursive: true, force: true });
});

/** Starts the scripted server of the example in a child process (requiring `apiKey`) and waits for its URL. */
function startServer(apiKey) {
  server = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/vscode/fixtureServerMain.ts'), EXAMPLE, apiKey], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    server.stdout.once('data', (chunk) => resolve(String(chunk).trim()));
    server.once('exit', (code) => reject(new Error(`the scripted server exited with ${code}`)));
  });
}

/** Files under `dir` that contain `text`, found by grep (binary files read as text). */
function filesContaining(dir, text) {
  try {
    return execFileSync('grep', ['-rlF', '--binary-files=text', '--', text, dir], { encoding: 'utf8' }).split('\n').filter(Boolean);
  } catch (error) {
    if (error.status === 1) return [];
    throw error;
  }
}

/** @type {import('../../../e2e/ui.mjs').UiStep[]} */
export default [
  {
    name: 'Configure Model from the palette: endpoint, model and format into the user settings (the workspace folder untouched), the API key into secret storage',
    async run(ui) {
      const before = gitStatus(ui.workspace);
      await ui.command('EntroPO: Configure Model');
      await answer(ui, 'Configure Model (1/5)', 'http://127.0.0.1:47811/v1');
      await answer(ui, 'Configure Model (2/5)', API_KEY);
      // The server is not up yet: the endpoint cannot list its models, so the name is typed, and says why.
      await ui.page.locator(QUICK_INPUT, { hasText: 'did not list its models' }).waitFor({ timeout: 30_000 });
      await answer(ui, 'Configure Model (3/5)', 'scripted');
      await answer(ui, 'Configure Model (4/5)', 'text');
      await answer(ui, 'Configure Model (5/5)', 'User settings');
      await ui.waitForText('using scripted at http://127.0.0.1:47811/v1 (text format), saved in your user settings');
      await ui.waitForText('the model did not answer');
      assert.equal(existsSync(path.join(ui.workspace, '.vscode')), false, 'no .vscode folder in the repository');
      assert.equal(gitStatus(ui.workspace), before);
      const settings = JSON.parse(readFileSync(path.join(path.dirname(ui.workspace), 'user-data', 'User', 'settings.json'), 'utf8'));
      assert.deepEqual([settings['entropo.endpoint'], settings['entropo.model'], settings['entropo.actionFormat']], ['http://127.0.0.1:47811/v1', 'scripted', 'text']);
      assert.deepEqual(filesContaining(path.dirname(ui.workspace), API_KEY), []);
    },
  },
  {
    name: 'Fix Issue from the palette shows 4 ranked candidates with their signals',
    timeoutMs: 240_000,
    async run(ui) {
      // The server answers only requests that carry the key Configure Model stored.
      assert.match(await startServer(API_KEY), /^http:\/\/127\.0\.0\.1:47811\/v1$/);
      await fixIssue(ui);
      const panel = await ui.webview({ contains: 'status: done', timeoutMs: 180_000 });
      const cards = panel.locator('li.candidate');
      assert.equal(await cards.count(), 4);
      const titles = await panel.locator('li.candidate h2').allInnerTexts();
      assert.deepEqual(titles.map((t) => t.split(' ')[0]), ['#1', '#2', '#3', '#4']);
      assert.deepEqual(titles.slice(0, 2).map((t) => t.split(' ')[1]).sort(), ['r0', 'r1']);
      assert.deepEqual(titles.slice(2).map((t) => t.split(' ')[1]), ['r3', 'r2']);
      const signals = await cards.first().locator('li.signal').evaluateAll((els) => els.map((e) => e.dataset.signal));
      for (const name of ['finished', 'validity', 'syntax', 'regression', 'reproduction', 'agreement', 'local']) assert.ok(signals.includes(name), `signals: ${signals}`);
      // The details are behind an expander, as a person opens them.
      await cards.nth(3).locator('details.details > summary').click();
      assert.match(await cards.nth(3).locator('.explanation').innerText(), /^dropped \(breaks more regression tests than the best\)/);
      const tone = (card, name) => card.locator(`li.signal[data-signal="${name}"]`).getAttribute('data-tone');
      assert.deepEqual([await tone(cards.first(), 'regression'), await tone(cards.first(), 'reproduction'), await tone(cards.first(), 'local')], ['good', 'good', 'neutral']);
      assert.deepEqual([await tone(cards.nth(3), 'regression'), await tone(cards.nth(3), 'reproduction')], ['bad', 'bad']);
      assert.match(await cards.nth(3).locator('li.signal[data-signal="regression"]').innerText(), /^✗ regression: breaks 3 of 5/);
      assert.match(await panel.locator('header .facts').innerText(), /4 distinct patches/);
      // Not in the settings, the log, the trajectories, the preference store or any other file of the editor.
      assert.deepEqual(filesContaining(path.dirname(ui.workspace), API_KEY), []);
      await ui.shot('review-panel');
    },
  },
  {
    name: 'the panel shows a trajectory step by step',
    async run(ui) {
      const panel = await ui.webview({ contains: 'status: done' });
      await panel.locator('li.candidate').first().locator('button[data-action="steps"]').click();
      await panel.locator('ol.steps > li').first().waitFor({ timeout: 20_000 });
      const steps = await panel.locator('ol.steps > li').count();
      assert.ok(steps === 7 || steps === 8, `steps: ${steps}`);
      assert.match(await panel.locator('ol.steps pre.action').first().innerText(), /^search/);
      await ui.shot('trajectory');
    },
  },
  {
    name: 'Apply in the panel changes the file on disk',
    async run(ui) {
      const panel = await ui.webview({ contains: 'status: done' });
      const first = panel.locator('li.candidate').first();
      await first.locator('button[data-action="apply"]').click();
      const file = path.join(ui.workspace, 'pager', 'core.py');
      const deadline = Date.now() + 20_000;
      while (!/return (\(total \+ per_page - 1\) \/\/ per_page|math\.ceil\(total \/ per_page\))/.test(readFileSync(file, 'utf8'))) {
        if (Date.now() > deadline) throw new Error('pager/core.py was not changed by Apply');
        await new Promise((r) => setTimeout(r, 200));
      }
      await first.locator('h2', { hasText: '(applied)' }).waitFor({ timeout: 10_000 });
      await ui.shot('applied');
      server?.kill('SIGTERM');
    },
  },
  {
    name: 'the panel marks one Recommended card, offers Undo Apply on the applied one and Replace on the others, and announces only a status line',
    async run(ui) {
      const panel = await ui.webview({ contains: '(applied)' });
      const cards = panel.locator('li.candidate');
      assert.equal(await panel.locator('.badge.recommended').count(), 1);
      assert.equal(await cards.first().locator('.badge.recommended').count(), 1);
      assert.match(await panel.locator('.outcome .outcome-line').innerText(), /^Ready: r\d is worth applying/);
      const applied = cards.first();
      assert.equal(await applied.locator('button[data-action="apply"]').isDisabled(), true);
      assert.equal(await applied.locator('button[data-action="undo"]').count(), 1);
      const id = (await applied.locator('h2').innerText()).split(' ')[1];
      assert.equal(await cards.nth(1).locator('button[data-action="apply"]').innerText(), `Replace ${id} with ${(await cards.nth(1).locator('h2').innerText()).split(' ')[1]}`);
      assert.match(await applied.getAttribute('aria-label'), new RegExp(`^Rank 1, ${id}, recommended, tests 5/5 kept`));
      assert.equal(await applied.getAttribute('role'), 'article');
      assert.equal(await panel.locator('main[aria-live]').count(), 0);
      assert.equal(await panel.locator('#status[aria-live="polite"]').count(), 1);
      assert.match(await panel.locator('.keys').innerText(), /j \/ k/);
    },
  },
  {
    name: 'the panel in the light, dark and high contrast themes (screenshots)',
    timeoutMs: 90_000,
    async run(ui) {
      for (const [name, theme, kind] of [['light', 'Default Light Modern', 'vscode-light'], ['dark', 'Default Dark Modern', 'vscode-dark'],
        ['high-contrast', 'Default High Contrast', 'vscode-high-contrast']]) {
        setSettings(ui.workspace, { 'workbench.colorTheme': theme });
        const panel = await ui.webview({ contains: '(applied)' });
        await panel.locator(`body.${kind}`).waitFor({ timeout: 20_000 });
        await ui.shot(`panel-${name}`);
        if (kind === 'vscode-high-contrast') {
          // Cards are drawn with the theme's contrast border, and no text is dimmed by opacity.
          const card = panel.locator('li.candidate').nth(1);
          // Runs in the webview, where the page's window and document are the globals.
          const [border, contrast, opacity] = await card.evaluate((e) => {
            const style = e.ownerDocument.defaultView.getComputedStyle.bind(e.ownerDocument.defaultView);
            return [style(e).borderTopColor, style(e.ownerDocument.body).getPropertyValue('--vscode-contrastBorder').trim(), style(e).opacity];
          });
          assert.ok(contrast !== '', 'the theme defines a contrast border');
          assert.equal(opacity, '1');
          assert.notEqual(border, 'rgba(0, 0, 0, 0)');
        }
      }
      setSettings(ui.workspace, { 'workbench.colorTheme': 'Default Dark Modern' });
    },
  },
  {
    name: 'the Runs view in the activity bar lists the run with its candidates and opens it',
    async run(ui) {
      await ui.page.locator('.activitybar .action-item a[aria-label^="EntroPO"]').click();
      const row = ui.page.locator('.pane-body .monaco-list-row', { hasText: ISSUE_TITLE.slice(0, 30) }).first();
      await row.waitFor({ timeout: 20_000 });
      assert.match(await row.innerText(), /ready/);
      await row.locator('.monaco-tl-twistie').click();
      await ui.page.locator('.pane-body .monaco-list-row', { hasText: /#1 r\d/ }).first().waitFor({ timeout: 10_000 });
      assert.equal(await ui.page.locator('.pane-body .monaco-list-row', { hasText: /#\d r\d/ }).count(), 4);
      await ui.shot('runs-view');
      await ui.page.locator('.activitybar .action-item a[aria-label^="Explorer"]').click();
    },
  },
  {
    name: 'the panel and its decisions come back after a window reload',
    timeoutMs: 120_000,
    async run(ui) {
      await ui.reloadWindow();
      const panel = await ui.webview({ contains: '(applied)', timeoutMs: 90_000 });
      await panel.locator('li.candidate').nth(3).waitFor({ timeout: 10_000 });
      assert.equal(await panel.locator('li.candidate').count(), 4);
      assert.match(await panel.locator('header .facts').innerText(), /status: done/);
      await ui.shot('after-reload');
    },
  },
  {
    name: 'Fine-Tune from the palette trains a tiny model on the pair recorded in the panel, on the CPU when no GPU is found',
    timeoutMs: 300_000,
    async run(ui) {
      if (!existsSync(path.join(VENV, 'bin', 'python'))) {
        throw Object.assign(new Error('no trainer environment: scripts/test.sh creates trainer/.venv first'), { skip: true });
      }
      execFileSync(path.join(VENV, 'bin', 'python'), ['-m', 'entropo_trainer.tiny', MODEL, '--corpus', path.join(ROOT, 'schemas', 'fixtures', 'entropo-dpo.jsonl')],
        { cwd: path.join(ROOT, 'trainer'), stdio: 'ignore' });
      setSettings(ui.workspace, { 'entropo.train.pythonEnvironment': VENV, 'entropo.train.extraArgs': ['--grad-accum', '1'] });

      const review = await ui.webview({ contains: '(applied)' });
      const r2 = review.locator('li.candidate', { has: review.locator('h2', { hasText: /^#\d r2/ }) });
      await r2.locator('button[data-action="reject"]').click();
      await r2.locator('h2', { hasText: '(rejected)' }).waitFor({ timeout: 10_000 });

      await ui.command('EntroPO: Fine-Tune the Model (EntroPO)...');
      // No GPU here: said before any question, with the CPU offered for tiny models.
      const cpu = ui.page.locator('.notifications-toasts .notification-list-item', { hasText: 'no CUDA GPU is visible' })
        .locator('.monaco-button', { hasText: 'Run on CPU' });
      await cpu.waitFor({ timeout: 60_000 });
      await ui.shot('no-gpu');
      await cpu.click();
      // The methods say how much each has to learn from: the one applied x rejected pair of the panel.
      await ui.page.locator(QUICK_INPUT, { hasText: '1 pair recorded' }).waitFor({ timeout: 20_000 });
      await answer(ui, 'Fine-Tune (1/4)', 'entropo-dpo');
      await answer(ui, 'Fine-Tune (2/4)', MODEL, 'Use as Base Model');
      await answer(ui, 'Fine-Tune (3/4)');
      await answer(ui, 'Fine-Tune (4/4)');
      await ui.waitForText(/fine-tuning finished/, 180_000);
      const panel = await trainPanel(ui, 'status: done', 10_000);
      assert.match(await panel.locator('header .facts').innerText(), /method: entropo-dpo · step 1 \/ 1/);
      assert.equal(await panel.locator('figure[data-metric="loss"]').getAttribute('data-points'), '1');
      assert.equal(await panel.locator('figure[data-metric="loss"] circle.marker').count(), 1);
      assert.match(await panel.locator('pre.command').innerText(), /vllm serve .* --enable-lora/);
      await ui.shot('trained');
    },
  },
  {
    name: 'the training panel comes back after a window reload with the finished run; the decisions stay recorded',
    timeoutMs: 120_000,
    async run(ui) {
      // Only the training panel is left open to be restored: with two webviews revived at once, the editor
      // here now and then leaves one of them blank (the review panel's own reload is the step above).
      await ui.page.locator('.tabs-container .tab', { hasText: 'EntroPO Candidates' }).locator('.tab-actions .action-label').click();
      await ui.page.locator('.tabs-container .tab', { hasText: 'EntroPO Candidates' }).waitFor({ state: 'detached', timeout: 10_000 });
      await ui.reloadWindow();
      const panel = await trainPanel(ui, 'status: done', 90_000);
      assert.equal(await panel.locator('figure[data-metric="loss"]').getAttribute('data-points'), '1');
      assert.equal(await panel.locator('button[data-action="copyVllmCommand"]').count(), 1);
      await ui.command('EntroPO: Show Candidates');
      const review = await ui.webview({ contains: '(rejected)', timeoutMs: 30_000 });
      assert.deepEqual(await review.locator('li.candidate h2', { hasText: /\((applied|rejected)\)/ }).allInnerTexts(), ['#1 r1 (applied)', '#4 r2 (rejected)']);
      await ui.shot('train-after-reload');
    },
  },
  {
    name: 'with two runs, the panel acts on the run it shows: the other run\'s diff moving on brings that run into the panel, and Reject there is recorded on its task',
    timeoutMs: 300_000,
    async run(ui) {
      // The first run's candidate out of the working tree, so that the second run starts from the same files.
      const first = await reviewWhen(ui, (t) => t.some((x) => x.endsWith('(applied)')), 'the first run');
      await first.locator('li.candidate', { has: first.locator('h2', { hasText: '(applied)' }) }).locator('button[data-action="undo"]').click();
      await reviewWhen(ui, (t) => t.some((x) => x.endsWith('(undone)')), 'r1 undone');
      assert.equal(gitStatus(ui.workspace), '');
      await startServer(API_KEY);
      await fixIssue(ui);
      // The second run in the panel: four cards, nothing decided yet.
      const second = await reviewWhen(ui, (t) => t.length === 4 && t.every((x) => !x.includes('(')), 'the second run', 180_000);
      const [firstId, nextId] = (await second.locator('li.candidate h2').allInnerTexts()).map((t) => t.split(' ')[1]);
      await second.locator('li.candidate').first().locator('button[data-action="diff"]').click();
      const diffTab = ui.page.locator('.tabs-container .tab', { hasText: `snapshot ↔ ${firstId}` }).first();
      await diffTab.waitFor({ timeout: 20_000 });
      // The first run into the panel, from the Runs view (newest first: it is the second row).
      await ui.page.locator('.activitybar .action-item a[aria-label^="EntroPO"]').click();
      const rows = ui.page.locator('.pane-body .monaco-list-row', { hasText: ISSUE_TITLE.slice(0, 30) });
      await rows.nth(1).waitFor({ timeout: 20_000 });
      await rows.nth(1).click();
      await reviewWhen(ui, (t) => t.some((x) => x.endsWith('(rejected)')), 'the first run again');
      // The second run's diff moves on to its next candidate: that run is the one acted on now, and the panel
      // shows it (it used to keep showing the first, so that a click there acted on a card nobody saw).
      await diffTab.click();
      await ui.page.locator('.editor-actions .action-label[aria-label*="Next Candidate"]').first().click();
      await ui.page.locator('.tabs-container .tab', { hasText: `snapshot ↔ ${nextId}` }).first().waitFor({ timeout: 20_000 });
      // The diff opened over the panel, in its group: back to the panel, as a user clicks its tab.
      await ui.page.locator('.tabs-container .tab', { hasText: 'EntroPO Candidates' }).first().click();
      const shown = await reviewWhen(ui, (t) => t.length === 4 && t.every((x) => !x.includes('(')), 'the second run after Next Candidate');
      const r2 = shown.locator('li.candidate', { has: shown.locator('h2', { hasText: /^#\d r2/ }) });
      await r2.locator('button[data-action="reject"]').click();
      await reviewWhen(ui, (t) => t.some((x) => /^#\d r2 \(rejected\)$/.test(x)) && t.filter((x) => x.includes('(')).length === 1, 'r2 of the second run rejected');
      const records = storeRecords(ui.workspace);
      const tasks = records.filter((r) => r.kind === 'task');
      assert.equal(tasks.length, 2);
      assert.deepEqual(records.filter((r) => r.kind === 'decision').slice(-1).map((d) => [d.taskId, d.candidateId, d.decision]), [[tasks[1].id, 'r2', 'rejected']]);
      await ui.shot('second-run');
      server?.kill('SIGTERM');
    },
  },
];
