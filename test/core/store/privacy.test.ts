import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../src/core/agent/config.js';
import { createModelFactory } from '../../../src/core/llm/createModel.js';
import { runBatch } from '../../../src/core/sampling/runBatch.js';
import { EXPORT_FORMATS } from '../../../src/core/store/exportLines.js';
import { exportPreferences } from '../../../src/core/store/exportPreferences.js';
import { PreferenceStore } from '../../../src/core/store/preferenceStore.js';
import { recordBatch } from '../../../src/core/store/recordBatch.js';
import { exampleRepo, tempDir } from '../../helpers/tempRepo.js';
import { exportValidator, readJsonLines } from './exportSchemas.js';

const ENV_KEY = 'sk-live-4f9Qm2Zx7Lw0Rt8Yp3Kd6Hs1';
const GITHUB_TOKEN = 'ghp_Z3x9Qm2Lw0Rt8Yp3Kd6Hs1Vb4Nc7Fj5Ga2Eu';
const DOTENV_PASSWORD = 'hunter2secret';
const CONFIGURED_KEY = 'local-vllm-key-7781';
const SECRETS = [ENV_KEY, GITHUB_TOKEN, DOTENV_PASSWORD, CONFIGURED_KEY];

/** A rollout that reads the secrets into its observations, repeats them in its own words and writes one into the patch. */
// Two rollouts write the secrets to different files, so that their patches differ and make a preference pair.
function leakyScript(file: string): { content: string }[] {
  const fn = (name: string, params: Record<string, string>) =>
    `<function=${name}>\n${Object.entries(params).map(([k, v]) => `<parameter=${k}>${v}</parameter>`).join('\n')}\n</function>`;
  return [
    { content: `Let me look at the configuration.\n\n${fn('execute_bash', { cmd: 'cat .env deploy/notes.txt' })}` },
    { content: `The service key is ${ENV_KEY} and the configured key ${CONFIGURED_KEY}; I will hard-code the token.\n\n${fn('file_editor', { command: 'create', path: file, file_text: `GITHUB_TOKEN = "${GITHUB_TOKEN}"\nDB = "postgres://app:${DOTENV_PASSWORD}@db/app"\n` })}` },
    { content: `Done.\n\n${fn('finish', { command: 'submit', result: `uses ${DOTENV_PASSWORD}` })}` },
  ];
}

describe('secrets never reach the store or an export', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => cleanups.splice(0).forEach((c) => c()));

  it('redacts an environment API key, a token in an observation, a .env value and the configured key', async () => {
    const repo = exampleRepo();
    const work = tempDir();
    cleanups.push(repo.cleanup, work.cleanup);
    writeFileSync(path.join(repo.dir, '.env'), `DATABASE_PASSWORD=${DOTENV_PASSWORD}\nLOG_LEVEL=debug\n`);
    mkdirSync(path.join(repo.dir, 'deploy'));
    writeFileSync(path.join(repo.dir, 'deploy', 'notes.txt'), `push with ${GITHUB_TOKEN}\n`);
    const previous = process.env.MY_SERVICE_API_KEY;
    process.env.MY_SERVICE_API_KEY = ENV_KEY;
    cleanups.push(() => {
      if (previous === undefined) delete process.env.MY_SERVICE_API_KEY;
      else process.env.MY_SERVICE_API_KEY = previous;
    });
    const scripts = ['settings', 'secrets'].map((name) => {
      const script = path.join(work.dir, `leaky-${name}.json`);
      writeFileSync(script, JSON.stringify({ model: 'leaky', responses: leakyScript(`pager/${name}.py`) }));
      return script;
    });
    const config = resolveConfig({ format: 'text' });
    const issue = `Pagination is broken. (My key for the server is ${CONFIGURED_KEY}.)`;
    const batch = await runBatch({ repoDir: repo.dir, issue, samples: 2, config, outDir: path.join(work.dir, 'out'),
      worktreeBaseDir: path.join(work.dir, 'wt'), model: await createModelFactory({ kind: 'scripts', files: scripts }) });
    // The secrets really are in what the batch produced.
    const raw = JSON.stringify(batch);
    for (const secret of SECRETS) expect(raw).toContain(secret);

    const storeDir = path.join(work.dir, 'store');
    const store = PreferenceStore.open(storeDir, { secrets: [CONFIGURED_KEY] });
    const taskId = await recordBatch(store, { ...batch }, { issue, config });
    await store.appendDecision({ taskId, candidateId: 'r0', decision: 'applied', note: `fine, rotate ${GITHUB_TOKEN} later` });
    await store.appendDecision({ taskId, candidateId: 'r1', decision: 'rejected' });

    const bytes = readdirSync(storeDir).filter((n) => n.endsWith('.jsonl')).map((n) => readFileSync(path.join(storeDir, n), 'utf8')).join('');
    for (const secret of SECRETS) expect(bytes).not.toContain(secret);
    for (const kind of ['env', 'github-token', 'dotenv', 'api-key']) expect(bytes).toContain(`[REDACTED:${kind}]`);
    expect(bytes).toContain('LOG_LEVEL=debug');
    const { tasks, decisions } = await store.readAll();
    expect(tasks[0].candidates[0].patch).toContain('+GITHUB_TOKEN = "[REDACTED:github-token]"');
    expect(decisions[0].note).toBe('fine, rotate [REDACTED:github-token] later');

    const validate = exportValidator();
    for (const format of EXPORT_FORMATS) {
      const file = path.join(work.dir, `${format}.jsonl`);
      const summary = await exportPreferences(store, { format, out: file });
      expect(summary.lines).toBe(format.endsWith('dpo') ? 1 : 2);
      const text = readFileSync(file, 'utf8');
      for (const secret of SECRETS) expect(text).not.toContain(secret);
      for (const line of readJsonLines(file)) expect(validate(format, line)).toEqual([]);
    }
  });
});
