// The extension-host suites (test/vscode/suites) through @vscode/test-cli, for machines that can download
// VS Code (CI runs scripts/e2e.sh instead, which needs no download and also tests the packaged .vsix):
//   bash scripts/e2e.sh --build-only
//   npx --yes -p @vscode/test-cli@0.0.12 -p @vscode/test-electron@2.5.2 vscode-test
// Here the extension runs from this folder, so the test that inspects the .vsix contents is skipped.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { defineConfig } from '@vscode/test-cli';

// The suites expect what scripts/e2e.sh gives them: a fresh git repository holding the bundled example.
const workspace = path.join(mkdtempSync(path.join(tmpdir(), 'entropo-vscode-test-')), 'pagination');
cpSync(path.join(import.meta.dirname, 'examples/pagination/repo'), workspace, { recursive: true });
const git = (...args) => execFileSync('git', ['-c', 'user.name=e2e', '-c', 'user.email=e2e@example.com', ...args], { cwd: workspace, timeout: 30_000 });
git('init', '-q', '-b', 'main');
git('add', '-A');
git('commit', '-q', '-m', 'example repository');

export default defineConfig({
  label: 'extension host',
  files: 'out/test/mocha.js',
  version: '1.99.3',
  extensionDevelopmentPath: import.meta.dirname,
  workspaceFolder: workspace,
  launchArgs: ['--disable-extensions', '--disable-workspace-trust'],
  env: { ENTROPO_E2E_WORKSPACE: workspace },
  mocha: { ui: 'bdd', timeout: 60_000 },
});
