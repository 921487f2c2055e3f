// The review panel as a user sees it: Fix Issue from the command palette on the example, against the
// scripted OpenAI server; the panel lists the ranked candidates with their signals, shows a trajectory, and
// Apply changes the file on disk.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const EXAMPLE = path.join(ROOT, 'examples', 'pagination');
let server;
// A failed step must not leave the server holding its port for the next run.
process.on('exit', () => server?.kill('SIGTERM'));

/** Starts the scripted server of the example in a child process and waits for its URL. */
function startServer() {
  server = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/vscode/fixtureServerMain.ts'), EXAMPLE], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    server.stdout.once('data', (chunk) => resolve(String(chunk).trim()));
    server.once('exit', (code) => reject(new Error(`the scripted server exited with ${code}`)));
  });
}

/** @type {import('../../../e2e/ui.mjs').UiStep[]} */
export default [
  {
    name: 'Fix Issue from the palette shows 4 ranked candidates with their signals',
    timeoutMs: 240_000,
    async run(ui) {
      assert.match(await startServer(), /^http:\/\/127\.0\.0\.1:47811\/v1$/);
      await ui.command('EntroPO: Fix Issue...');
      const input = ui.page.locator('.quick-input-widget .quick-input-box input');
      await ui.page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: 'Type the issue' }).first().waitFor({ timeout: 30_000 });
      await input.fill('Type the issue');
      await ui.page.keyboard.press('Enter');
      await ui.page.locator('.quick-input-widget', { hasText: 'Describe the issue to fix' }).waitFor({ timeout: 10_000 });
      await input.fill(readFileSync(path.join(EXAMPLE, 'issue.md'), 'utf8').split('\n')[0]);
      await ui.page.keyboard.press('Enter');
      const panel = await ui.webview({ contains: 'status: done', timeoutMs: 180_000 });
      const cards = panel.locator('li.candidate');
      assert.equal(await cards.count(), 4);
      const titles = await panel.locator('li.candidate h2').allInnerTexts();
      assert.deepEqual(titles.map((t) => t.split(' ')[0]), ['#1', '#2', '#3', '#4']);
      assert.deepEqual(titles.slice(0, 2).map((t) => t.split(' ')[1]).sort(), ['r0', 'r1']);
      assert.deepEqual(titles.slice(2).map((t) => t.split(' ')[1]), ['r3', 'r2']);
      const signals = await cards.first().locator('li.signal').evaluateAll((els) => els.map((e) => e.dataset.signal));
      for (const name of ['finished', 'validity', 'syntax', 'regression', 'reproduction', 'agreement', 'local']) assert.ok(signals.includes(name), `signals: ${signals}`);
      assert.match(await cards.nth(3).locator('.explanation').innerText(), /^dropped \(breaks more regression tests than the best\)/);
      const tone = (card, name) => card.locator(`li.signal[data-signal="${name}"]`).getAttribute('data-tone');
      assert.deepEqual([await tone(cards.first(), 'regression'), await tone(cards.first(), 'reproduction'), await tone(cards.first(), 'local')], ['good', 'good', 'neutral']);
      assert.deepEqual([await tone(cards.nth(3), 'regression'), await tone(cards.nth(3), 'reproduction')], ['bad', 'bad']);
      assert.match(await cards.nth(3).locator('li.signal[data-signal="regression"]').innerText(), /^✗ regression: breaks 3 of 5/);
      assert.match(await panel.locator('header .facts').innerText(), /4 distinct patches/);
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
];
