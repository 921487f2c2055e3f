// What a UI step receives: the Playwright page of a code-server workbench, plus helpers that act like a
// person (command palette, quick open), read the DOM of webviews and notifications, and take screenshots.
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';

/**
 * @typedef {object} Ui
 * @property {import('playwright-core').Page} page the workbench page
 * @property {string} workspace absolute path of the workspace folder (a git repository)
 * @property {string} extensionPath absolute path of the installed extension
 * @property {string} artifacts folder the screenshots go to
 * @property {(name: string) => Promise<string>} shot saves a screenshot, returns its path
 * @property {(label: string) => Promise<void>} command runs a command palette entry by its full label ("Category: Title")
 * @property {() => Promise<void>} reloadWindow runs Developer: Reload Window and waits until the new workbench is up
 * @property {(file: string) => Promise<void>} quickOpen opens a workspace file through quick open
 * @property {(options?: { contains?: string, timeoutMs?: number }) => Promise<import('playwright-core').Frame>} webview the content frame of a webview
 * @property {() => Promise<string[]>} notifications the messages of the notification toasts on screen
 * @property {(text: string | RegExp, timeoutMs?: number) => Promise<void>} waitForText waits until the workbench shows the text
 */

/**
 * @typedef {object} UiStep
 * @property {string} name what the step checks
 * @property {(ui: Ui) => Promise<void>} run the step; a throw fails it and skips the rest of its file (an error with `skip: true` reports it skipped)
 * @property {number} [timeoutMs] default 60000
 */

const QUICK_INPUT = '.quick-input-widget';
const QUICK_ROWS = `${QUICK_INPUT} .quick-input-list .monaco-list-row`;

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Loads the workbench on a folder and waits until the explorer lists its files (the server side is up). */
export async function openWorkbench(page, baseUrl, folder) {
  await page.goto(`${baseUrl}/?folder=${encodeURIComponent(folder)}`);
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  await page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ timeout: 60_000 });
}

/** Opens the quick input with F1 and replaces its text; a leading ">" lists commands, none lists files. */
async function quickInput(page, text) {
  await page.locator('.monaco-workbench').focus().catch(() => undefined);
  await page.keyboard.press('F1');
  const input = page.locator(`${QUICK_INPUT} .quick-input-box input`);
  await input.waitFor({ state: 'visible', timeout: 10_000 });
  await input.fill(text);
}

/** Picks the quick input row whose label is exactly `label`, retrying while the list fills in. */
async function pick(page, label, timeoutMs = 15_000) {
  const row = page.locator(QUICK_ROWS).filter({ has: page.locator('.label-name', { hasText: new RegExp(`^\\s*${escapeRegExp(label)}\\s*$`) }) }).first();
  await row.waitFor({ state: 'visible', timeout: timeoutMs });
  await row.click();
  await page.locator(QUICK_INPUT).waitFor({ state: 'hidden', timeout: 10_000 });
}

/** Webview content frames: VS Code puts each webview in an outer iframe whose inner frame holds the page. */
async function webviewFrame(page, { contains, timeoutMs = 20_000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const frame of page.frames()) {
      const parent = frame.parentFrame();
      if (!parent || !parent.url().includes('/webview/browser/pre/')) continue;
      const text = await frame.locator('body').innerText({ timeout: 1_000 }).catch(() => undefined);
      if (text !== undefined && (!contains || text.includes(contains))) return frame;
    }
    if (Date.now() > deadline) throw new Error(`no webview${contains ? ` containing "${contains}"` : ''} within ${timeoutMs} ms`);
    await page.waitForTimeout(200);
  }
}

/** Builds the object passed to every UI step of one file. */
export function createUi(page, { artifacts, prefix, workspace, extensionPath }) {
  let shots = 0;
  return {
    page,
    workspace,
    extensionPath,
    artifacts,
    async shot(name) {
      mkdirSync(artifacts, { recursive: true });
      shots += 1;
      const file = path.join(artifacts, `${prefix}-${String(shots).padStart(2, '0')}-${name.replace(/[^\w.-]+/g, '-')}.png`);
      await page.screenshot({ path: file });
      return file;
    },
    async command(label) {
      // Right after the workbench opens, the extensions' commands may not be listed yet: ask again until they are.
      const deadline = Date.now() + 30_000;
      for (;;) {
        await quickInput(page, `>${label}`);
        try {
          return await pick(page, label, 3_000);
        } catch (error) {
          if (Date.now() > deadline) throw error;
          await page.keyboard.press('Escape');
        }
      }
    },
    async reloadWindow() {
      // The command returns before the page unloads; without waiting for the new document a step would read
      // the old workbench's webviews while they are being torn down.
      const reloaded = page.waitForEvent('load', { timeout: 60_000 });
      await this.command('Developer: Reload Window');
      await reloaded;
      await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    },
    async quickOpen(file) {
      await quickInput(page, file);
      await pick(page, path.basename(file));
      await page.locator(`.tabs-container .tab[aria-label*="${path.basename(file)}"]`).first().waitFor({ timeout: 10_000 });
    },
    webview: (options) => webviewFrame(page, options),
    async notifications() {
      return page.locator('.notifications-toasts .notification-list-item-message').allInnerTexts();
    },
    async waitForText(text, timeoutMs = 20_000) {
      await page.locator('.monaco-workbench').getByText(text).first().waitFor({ timeout: timeoutMs });
    },
  };
}
