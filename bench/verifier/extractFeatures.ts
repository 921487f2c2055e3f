/**
 * Writes the local verifier's features for a labelled candidates file (the SWE-bench Lite dev set format:
 * one issue per line with `candidates: [{id, patch, resolved}]`) as one JSON line per candidate:
 * `{instance_id, candidate_id, label, features}`, plus a header line with the feature names and schema.
 * The trainer reads this file; the features come from the same code the extension runs.
 *
 *   npx tsx bench/verifier/extractFeatures.ts [--input ../shared/data/swebench-lite-candidates-dev.jsonl] \
 *     [--output bench/out/verifier/features-dev.jsonl]
 */
import { createReadStream, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { FEATURE_NAMES, FEATURE_SCHEMA, instanceFeatures } from '../../src/core/verify/local/features.js';

interface Issue {
  instance_id: string;
  problem_statement: string;
  candidates: Array<{ id: string; patch: string; resolved: boolean }>;
}

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : fallback;
}

async function main(): Promise<void> {
  const input = option('input', '../shared/data/swebench-lite-candidates-dev.jsonl');
  const output = option('output', 'bench/out/verifier/features-dev.jsonl');
  const lines = [JSON.stringify({ header: true, schema: FEATURE_SCHEMA, feature_names: FEATURE_NAMES })];
  let issues = 0;
  let slowest = { id: '', ms: 0 };
  const started = performance.now();
  for await (const line of createInterface({ input: createReadStream(input, 'utf8'), crlfDelay: Infinity })) {
    if (!line.trim()) continue;
    const issue = JSON.parse(line) as Issue;
    const t0 = performance.now();
    const vectors = instanceFeatures(issue.problem_statement, issue.candidates.map((c) => c.patch));
    const ms = performance.now() - t0;
    if (ms > slowest.ms) slowest = { id: issue.instance_id, ms };
    issue.candidates.forEach((candidate, i) => {
      lines.push(JSON.stringify({
        instance_id: issue.instance_id,
        candidate_id: candidate.id,
        label: candidate.resolved ? 1 : 0,
        features: Array.from(vectors[i]),
      }));
    });
    issues++;
  }
  mkdirSync(dirname(output), { recursive: true });
  writeFileSync(output, lines.join('\n') + '\n');
  const total = performance.now() - started;
  process.stdout.write(
    `${issues} issues, ${lines.length - 1} candidates, ${FEATURE_NAMES.length} features -> ${output}\n` +
    `extraction ${total.toFixed(0)} ms in all; slowest issue ${slowest.id} ${slowest.ms.toFixed(0)} ms\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
