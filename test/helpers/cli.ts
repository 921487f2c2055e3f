import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll } from 'vitest';
import { PROJECT_ROOT } from './tempRepo.js';

const run = promisify(execFile);
// tsx by its own path, so that the CLI can run from any folder (a package name resolves from the working folder).
const TSX = pathToFileURL(path.join(PROJECT_ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

// The CLI keeps a shared checkout per repository in its temp folder for the next run; each test file's runs
// get a temp folder of their own, removed after the file's last test, so the tests leave nothing behind.
let cliTmp: string | undefined;
function cliTmpDir(): string {
  cliTmp ??= mkdtempSync(path.join(tmpdir(), 'entropo-cli-tmp-'));
  return cliTmp;
}
afterAll(() => {
  if (cliTmp) rmSync(cliTmp, { recursive: true, force: true });
  cliTmp = undefined;
});

/** What one run of the CLI printed and how it exited. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `entropo ARGS` from the sources in a real child process (in `cwd`); a non-zero exit is a result, not a throw. */
export async function runCli(args: string[], env: Record<string, string> = {}, cwd = PROJECT_ROOT): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', TSX, path.join(PROJECT_ROOT, 'src/cli/main.ts'), ...args],
      { cwd, env: { ...process.env, TMPDIR: cliTmpDir(), ...env }, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Output streams for a command run in this process, and the text written to them. */
export function capturedStreams(): { streams: { out: PassThrough; err: PassThrough }; text: { out: string; err: string } } {
  const out = new PassThrough();
  const err = new PassThrough();
  const text = { out: '', err: '' };
  out.on('data', (c: Buffer) => { text.out += c.toString(); });
  err.on('data', (c: Buffer) => { text.err += c.toString(); });
  return { streams: { out, err }, text };
}

/** A running `entropo ARGS` (for signals mid-run): its process, what it printed so far, and its end. */
export interface RunningCli {
  child: ChildProcess;
  output: { stdout: string; stderr: string };
  /** Resolves once stderr has a line matching `pattern`. */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `entropo ARGS` from the sources in a child process, like `runCli`, without waiting for it. */
export function startCli(args: string[], env: Record<string, string> = {}): RunningCli {
  const child = spawn(process.execPath, ['--import', TSX, path.join(PROJECT_ROOT, 'src/cli/main.ts'), ...args],
    { cwd: PROJECT_ROOT, env: { ...process.env, TMPDIR: cliTmpDir(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = { stdout: '', stderr: '' };
  child.stdout!.on('data', (c: Buffer) => { output.stdout += c.toString(); });
  child.stderr!.on('data', (c: Buffer) => { output.stderr += c.toString(); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  const waitForStderr = async (pattern: RegExp, timeoutMs = 120_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(output.stderr)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no ${pattern} on stderr: ${output.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  return { child, output, waitForStderr, exited };
}

/** The CLI's temp folder for this test file (its shared checkouts and workspaces live under it). */
export function cliTempFolder(): string {
  return cliTmpDir();
}
