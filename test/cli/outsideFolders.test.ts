/**
 * What the CLI leaves outside its own folders: nothing. onnxruntime (the local verifier's runtime) sends usage
 * events to Microsoft and keeps a device id and an event database in ~/.cache/Microsoft and a log in the
 * temporary folder unless its telemetry is turned off; the product turns it off.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, tempDir } from '../helpers/tempRepo.js';

const run = promisify(execFile);
const FIXTURE = path.join(PROJECT_ROOT, 'test', 'core', 'verify', 'local', 'fixtures', 'parity.json');
// Variables by which onnxruntime recognises a CI machine and keeps its telemetry quiet on its own
const CI_MARKERS = ['CI', 'GITHUB_ACTIONS', 'GITLAB_CI', 'CIRCLECI', 'TF_BUILD', 'ORT_RUNNING_UNIT_TESTS', 'ORT_DISABLE_TELEMETRY'];

/** Every file and folder under `dir`, relative to it. */
function contents(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

describe('the CLI outside its own folders', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => cleanups.splice(0).forEach((c) => c()));

  it('rank scores with the local verifier and writes nothing in the home, cache or temporary folder', async () => {
    const work = tempDir();
    cleanups.push(work.cleanup);
    const home = path.join(work.dir, 'home');
    const cache = path.join(work.dir, 'cache');
    const tmp = path.join(work.dir, 'tmp');
    for (const dir of [home, cache, tmp]) mkdirSync(dir);
    const issue = (JSON.parse(readFileSync(FIXTURE, 'utf8')) as { instances: { instance_id: string; problem_statement: string; candidates: { id: string; patch: string }[] }[] }).instances[0];
    const input = path.join(work.dir, 'in.jsonl');
    const out = path.join(work.dir, 'out.jsonl');
    writeFileSync(input, `${JSON.stringify({ instance_id: issue.instance_id, problem_statement: issue.problem_statement, candidates: issue.candidates.map(({ id, patch }) => ({ id, patch })) })}\n`);
    // TSX_DISABLE_CACHE: tsx, which runs the sources here, keeps compiled files in the temporary folder
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, XDG_CACHE_HOME: cache, TMPDIR: tmp, TSX_DISABLE_CACHE: '1' };
    for (const name of CI_MARKERS) delete env[name];

    await run(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'src/cli/main.ts'), 'rank', '--candidates', input, '--out', out], { cwd: PROJECT_ROOT, env });

    const [record] = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { signals: Record<string, { local?: { status: string } }> });
    const local = Object.values(record.signals).map((s) => s.local?.status);
    expect(local).toHaveLength(issue.candidates.length);
    expect(local.every((s) => s === 'ok'), JSON.stringify(local)).toBe(true);
    expect({ home: contents(home), cache: contents(cache), tmp: contents(tmp) }).toEqual({ home: [], cache: [], tmp: [] });
  }, 120_000);
});
