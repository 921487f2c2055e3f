import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AgentError } from '../../../../src/core/errors.js';
import { FEATURE_SCHEMA } from '../../../../src/core/verify/local/features.js';
import { loadModel, localVerifier } from '../../../../src/core/verify/local/localVerifier.js';
import { modelLocation } from '../../../../src/core/verify/local/modelLocation.js';
import type { SignalValue } from '../../../../src/core/verify/signalTypes.js';

interface FixtureIssue {
  instance_id: string;
  problem_statement: string;
  candidates: Array<{ id: string; patch: string; python_score: number; onnx_score: number }>;
}

const fixture = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'parity.json'), 'utf8')) as { instances: FixtureIssue[] };
const SHIPPED = resolve(__dirname, '..', '..', '..', '..', 'models', 'local-verifier', 'local-verifier.onnx');
const temp = mkdtempSync(join(tmpdir(), 'local-verifier-test-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

function score(value: SignalValue | undefined): number {
  if (value?.status !== 'ok') throw new Error(`expected a score, got ${JSON.stringify(value)}`);
  return value.score;
}

describe('localVerifier with the shipped model', () => {
  it('finds the model in the repository when run from sources', () => {
    expect(modelLocation()).toEqual({ found: true, file: SHIPPED });
  });

  it('scores every candidate as the Python model did (onnxruntime-node vs sklearn, 1e-5)', async () => {
    let compared = 0;
    for (const issue of fixture.instances) {
      const result = await localVerifier(issue.problem_statement, issue.candidates);
      expect(result.size).toBe(issue.candidates.length);
      for (const candidate of issue.candidates) {
        const value = result.get(candidate.id);
        expect(Math.abs(score(value) - candidate.python_score)).toBeLessThan(1e-5);
        expect(Math.abs(score(value) - candidate.onnx_score)).toBeLessThan(1e-6);
        expect(value?.status === 'ok' && value.detail).toBe(`local verifier ${score(value).toFixed(2)}`);
        compared++;
      }
    }
    expect(compared).toBeGreaterThanOrEqual(8);
  });

  it('matches scores to candidate ids whatever the input order', async () => {
    const issue = fixture.instances[0];
    const forward = await localVerifier(issue.problem_statement, issue.candidates);
    const shuffled = [...issue.candidates].reverse();
    shuffled.push(shuffled.shift()!);
    const backward = await localVerifier(issue.problem_statement, shuffled);
    const distinct = new Set([...forward.values()].map(score));
    expect(distinct.size).toBeGreaterThan(1); // the check below would be empty if all scores were equal
    for (const candidate of issue.candidates) expect(score(backward.get(candidate.id))).toBe(score(forward.get(candidate.id)));
  });

  it('returns scores in [0, 1] with the features as data', async () => {
    const issue = fixture.instances[1];
    const result = await localVerifier(issue.problem_statement, issue.candidates);
    for (const value of result.values()) {
      expect(score(value)).toBeGreaterThanOrEqual(0);
      expect(score(value)).toBeLessThanOrEqual(1);
      expect(value.status === 'ok' && Object.keys(value.data?.features as object)).toContain('line_jaccard_mean');
    }
  });

  it('judges no empty patch, which still counts in the others\' agreement features as it did in training', async () => {
    const issue = fixture.instances[0];
    const withEmpty = [...issue.candidates, { id: 'empty', patch: '' }];
    const result = await localVerifier(issue.problem_statement, withEmpty);
    expect(result.get('empty')).toEqual({ status: 'unavailable', reason: 'empty patch' });
    const alone = await localVerifier(issue.problem_statement, issue.candidates);
    expect(issue.candidates.some((c) => score(result.get(c.id)) !== score(alone.get(c.id)))).toBe(true);
  });

  it('returns nothing for no candidates and refuses duplicate ids', async () => {
    expect((await localVerifier('issue', [])).size).toBe(0);
    await expect(localVerifier('issue', [{ id: 'a', patch: '' }, { id: 'a', patch: '' }])).rejects.toThrow(AgentError);
  });
});

describe('localVerifier without a usable model', () => {
  const candidates = [{ id: 'c1', patch: '' }, { id: 'c2', patch: '' }];

  it('is unavailable, with the places searched, when the model file is missing', async () => {
    const missing = join(temp, 'nowhere', 'local-verifier.onnx');
    const result = await localVerifier('issue', candidates, { modelPath: missing });
    expect([...result.keys()]).toEqual(['c1', 'c2']);
    for (const value of result.values()) {
      expect(value).toEqual({ status: 'unavailable', reason: `local verifier model not found (looked in ${missing})` });
    }
  });

  it('is unavailable when the model file is corrupt', async () => {
    const corrupt = join(temp, 'corrupt.onnx');
    writeFileSync(corrupt, 'this is not an onnx model');
    const result = await localVerifier('issue', candidates, { modelPath: corrupt });
    expect(result.size).toBe(2);
    for (const value of result.values()) {
      expect(value.status).toBe('unavailable');
      expect(value.status === 'unavailable' && value.reason).toMatch(/^cannot load local verifier model .*corrupt\.onnx: /);
    }
  });

  it('is unavailable when the model was trained on other features', async () => {
    // The same graph with its input renamed (same length, so the protobuf stays valid): a stale model.
    const stale = join(temp, 'stale.onnx');
    const renamed = 'features_000000000000';
    expect(renamed).toHaveLength(FEATURE_SCHEMA.length);
    writeFileSync(stale, readFileSync(SHIPPED).toString('latin1').replaceAll(FEATURE_SCHEMA, renamed), 'latin1');
    expect((await loadModel(stale)).ok).toBe(false);
    const result = await localVerifier('issue', candidates, { modelPath: stale });
    for (const value of result.values()) {
      expect(value.status === 'unavailable' && value.reason).toContain(`expects ${renamed} but this version computes ${FEATURE_SCHEMA}`);
    }
  });
});
