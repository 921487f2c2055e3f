// UI smoke steps: the workbench opens the example repository, the Extensions view shows the installed
// extension, and the DOM inside a webview (the built-in Markdown preview) can be read.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

/** @type {import('../../../e2e/ui.mjs').UiStep[]} */
export default [
  {
    name: 'the workbench shows the example repository',
    async run(ui) {
      const rows = await ui.page.locator('.explorer-folders-view .monaco-list-row').allInnerTexts();
      assert.ok(rows.includes('pager'), `explorer rows: ${rows.join(', ')}`);
      assert.ok(rows.includes('README.md'), `explorer rows: ${rows.join(', ')}`);
      await ui.shot('workbench');
    },
  },
  {
    name: 'the Extensions view lists the installed extension',
    async run(ui) {
      const manifest = JSON.parse(readFileSync(path.join(ui.extensionPath, 'package.json'), 'utf8'));
      await ui.command('Extensions: Show Enabled Extensions');
      const entry = ui.page.locator('.extensions-viewlet .monaco-list-row', { hasText: manifest.displayName });
      await entry.first().waitFor({ timeout: 30_000 });
      await ui.shot('extensions-view');
    },
  },
  {
    name: 'a webview\'s DOM is readable: the Markdown preview of README.md',
    async run(ui) {
      await ui.quickOpen('README.md');
      await ui.command('Markdown: Open Preview to the Side');
      const frame = await ui.webview({ contains: 'Pagination helpers' });
      assert.equal((await frame.locator('h1').first().innerText()).trim(), 'pager');
      assert.match(await frame.locator('code').first().innerText(), /python3 -m unittest/);
      // The same content through the nested frames by hand: outer host iframe, then its active inner frame.
      const byHand = ui.page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
      assert.equal((await byHand.locator('h1').first().innerText()).trim(), 'pager');
      await ui.shot('markdown-preview');
    },
  },
];
