// Drives a running code-server from Debian's chromium: first the extension-host tests (the workbench loads
// the test module through `extensionTestsPath` and reports its exit code), then the UI steps of
// test/vscode/ui/*.mjs, each file in a fresh window. Prints one line per test and a closing
// "N passed, N failed" line; exits 0 only when every test passed.
import { mkdirSync, readFileSync, readdirSync, writeFileSync, appendFileSync, existsSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import { chromium } from 'playwright-core';
import { createUi, openWorkbench } from './ui.mjs';

const { values: opt } = parseArgs({
  options: {
    'base-url': { type: 'string' },
    workspace: { type: 'string' },
    extension: { type: 'string' },
    tests: { type: 'string' },
    results: { type: 'string' },
    artifacts: { type: 'string' },
    ui: { type: 'string' },
    grep: { type: 'string' },
    'host-timeout-s': { type: 'string', default: '300' },
    'skip-host': { type: 'boolean', default: false },
    'skip-ui': { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
    // Seconds the caller spent before starting this runner (install, build, package), for the wall time.
    'started-s': { type: 'string', default: '0' },
  },
});

const PREFIX = '[e2e]';
const baseUrl = opt['base-url'];
const artifacts = opt.artifacts;
const grep = opt.grep ? new RegExp(opt.grep) : undefined;
const counts = { passed: 0, failed: 0, skipped: 0 };

let finished = false;
let current = 'starting';

function report(status, name, durationMs, error) {
  if (finished) return;
  counts[status] += 1;
  const mark = { passed: '✓', failed: '✗', skipped: '-' }[status];
  console.log(`${mark} ${name}${durationMs === undefined ? '' : ` (${durationMs} ms)`}`);
  if (error) console.log(indent(error));
}

function indent(text) {
  return String(text).split('\n').map((line) => `    ${line}`).join('\n');
}

async function waitHealthy(timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(2_000) });
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`code-server did not answer ${baseUrl}/healthz within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function chromiumPath() {
  if (process.env.CHROMIUM) return process.env.CHROMIUM;
  try {
    return execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('chromium is not installed (apt-get install -y chromium)');
  }
}

/** Writes the editor's own log files, which the workbench hands over with the exit code. */
function saveEditorLogs(logs) {
  if (!Array.isArray(logs)) return;
  for (const log of logs) {
    if (!log || typeof log.relativePath !== 'string') continue;
    const file = path.join(artifacts, 'editor-logs', log.relativePath.replace(/\.\.+/g, '_'));
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, String(log.contents ?? ''));
  }
}

function formatLogArgs(args) {
  return (Array.isArray(args) ? args : [args]).map((arg) => (typeof arg === 'string' ? arg : JSON.stringify(arg))).join(' ');
}

/** Opens the workbench with the test payload and resolves with the exit code the test module produced. */
async function runHostTests(browser) {
  const logFile = path.join(artifacts, 'host-tests.log');
  const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
  const page = await context.newPage();
  let exit;
  const exited = new Promise((resolve) => { exit = resolve; });
  await page.exposeFunction('codeAutomationLog', (type, args) => {
    const text = formatLogArgs(args);
    appendFileSync(logFile, `[${type}] ${text}\n`);
    if (opt.verbose) console.log(`  [host ${type}] ${text}`);
  });
  await page.exposeFunction('codeAutomationExit', (code, logs) => {
    saveEditorLogs(logs);
    exit(code);
  });
  page.on('pageerror', (error) => appendFileSync(logFile, `[pageerror] ${error.stack ?? error}\n`));
  const authority = new URL(baseUrl).host;
  const payload = [
    ['extensionDevelopmentPath', `vscode-remote://${authority}${opt.extension}`],
    ['extensionTestsPath', `vscode-remote://${authority}${opt.tests}`],
  ];
  const started = Date.now();
  current = 'the extension-host tests';
  await page.goto(`${baseUrl}/?folder=${encodeURIComponent(opt.workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`);
  const timeoutMs = Number(opt['host-timeout-s']) * 1000;
  let timer;
  const code = await Promise.race([exited, new Promise((resolve) => { timer = setTimeout(() => resolve('timeout'), timeoutMs); })]);
  clearTimeout(timer);
  await page.screenshot({ path: path.join(artifacts, 'host-tests.png') }).catch(() => undefined);
  await context.close();
  return { code, seconds: ((Date.now() - started) / 1000).toFixed(1) };
}

/** Reports each extension-host test from the results file the in-host runner wrote. */
function reportHostTests({ code, seconds }) {
  console.log(`${PREFIX} extension host: exit code ${code} after ${seconds} s (log: ${path.join(artifacts, 'host-tests.log')})`);
  const written = existsSync(opt.results) ? JSON.parse(readFileSync(opt.results, 'utf8')) : undefined;
  for (const result of written?.results ?? []) report(result.status, `${result.suite} › ${result.name}`, result.durationMs, result.error);
  if (code === 'timeout') {
    const running = written?.running ? `; still running: ${written.running}` : '';
    report('failed', `extension host: the tests did not finish within ${opt['host-timeout-s']} s${running}`);
  } else if (!written?.done) report('failed', `extension host: the test module exited with ${code} and did not finish its results`);
  else if (code !== 0 && !written.results.some((result) => result.status === 'failed')) report('failed', `extension host: exit code ${code}`);
}

/** Runs one UI step file in a fresh window; after a failed step the file's remaining steps are skipped. */
async function runUiFile(browser, file) {
  const label = `ui/${path.basename(file, '.mjs')}`;
  const steps = [(await import(pathToFileURL(file).href)).default].flat();
  const selected = steps.filter((step) => !grep || grep.test(`${label} › ${step.name}`));
  if (selected.length === 0) return;
  const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
  const page = await context.newPage();
  const ui = createUi(page, { artifacts: path.join(artifacts, 'ui'), prefix: path.basename(file, '.mjs'), workspace: opt.workspace, extensionPath: opt.extension, baseUrl });
  let broken;
  try {
    await openWorkbench(page, baseUrl, opt.workspace);
  } catch (error) {
    broken = error;
    await ui.shot('workbench-failed').catch(() => undefined);
    report('failed', `${label} › the workbench opens`, undefined, error?.stack ?? error);
  }
  for (const step of selected) {
    const name = `${label} › ${step.name}`;
    if (broken) { report('skipped', name); continue; }
    const started = Date.now();
    current = name;
    try {
      await withTimeout(step.run(ui), step.timeoutMs ?? 60_000, name);
      report('passed', name, Date.now() - started);
    } catch (error) {
      broken = error;
      // A step that cannot run here (say, without the trainer's environment) throws an error with `skip`.
      if (error?.skip) {
        report('skipped', `${name} (${error.message})`);
        continue;
      }
      await ui.shot(`FAILED-${step.name}`).catch(() => undefined);
      report('failed', name, Date.now() - started, error?.stack ?? error);
    }
  }
  await context.close();
}

function withTimeout(promise, ms, name) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${name} timed out after ${ms} ms`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

let browser;

function finish() {
  if (finished) return;
  finished = true;
  console.log(`Artifacts: ${artifacts}`);
  console.log(`Wall time: ${Math.round(Number(opt['started-s']) + process.uptime())} s`);
  console.log(`${counts.passed} passed, ${counts.failed} failed${counts.skipped ? `, ${counts.skipped} skipped` : ''}`);
}

// scripts/e2e.sh stops the run with SIGTERM at its time limit: still close the browser and print the counts.
process.on('SIGTERM', async () => {
  report('failed', `the run did not finish within its time limit (E2E_TIMEOUT); still running: ${current}`);
  finish();
  await Promise.race([browser?.close(), new Promise((resolve) => setTimeout(resolve, 5_000))]);
  process.exit(1);
});

async function main() {
  mkdirSync(artifacts, { recursive: true });
  await waitHealthy(90_000);
  browser = await chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    handleSIGTERM: false,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  try {
    if (!opt['skip-host']) reportHostTests(await runHostTests(browser));
    if (!opt['skip-ui'] && opt.ui && existsSync(opt.ui)) {
      for (const file of readdirSync(opt.ui).filter((name) => name.endsWith('.mjs')).sort()) await runUiFile(browser, path.join(opt.ui, file));
    }
  } finally {
    await browser.close();
  }
  if (counts.passed + counts.failed === 0) report('failed', 'no test ran');
}

try {
  await main();
} catch (error) {
  report('failed', 'e2e runner', undefined, error?.stack ?? error);
}
finish();
process.exit(counts.failed > 0 ? 1 : 0);
