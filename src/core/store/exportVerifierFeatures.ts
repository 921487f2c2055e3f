/** Exports the user's decisions as labelled feature rows, the input of the local verifier's training. */
import * as path from 'node:path';
import { FEATURE_NAMES, FEATURE_SCHEMA, instanceFeatures } from '../verify/local/features.js';
import { forEachLabelledTask, type LabelledScan } from './labelledTasks.js';
import type { PreferenceStore } from './preferenceStore.js';
import { writeAtomically } from './writeAtomically.js';

/** The format name `entropo export` knows this export by. */
export const VERIFIER_FEATURES_FORMAT = 'verifier-features';

/** What the export wrote, and (from the scan) what it could not use. */
export interface VerifierFeaturesSummary extends LabelledScan {
  out: string;
  /** Candidates written, one row each; `positives` of them were accepted. */
  rows: number;
  positives: number;
  tasks: number;
  /** False when no candidate had a label: `out` is then as it was. */
  written: boolean;
}

/**
 * Writes trainer/verifier's features-JSONL: a header with the feature schema and names, then one row per
 * decided candidate, `{instance_id: task id, candidate_id, label: 1 accepted | 0 rejected (decisions.ts),
 * features}`. The features are computed from the task's issue and all its candidates' patches by the same
 * code the product ranks with, so a model trained on them reads the product's vectors.
 */
export async function exportVerifierFeatures(store: PreferenceStore, file: string): Promise<VerifierFeaturesSummary> {
  const out = path.resolve(file);
  const counts = { rows: 0, positives: 0, tasks: 0 };
  let scan: LabelledScan | undefined;
  const written = await writeAtomically(out, async (write) => {
    await write(`${JSON.stringify({ header: true, schema: FEATURE_SCHEMA, feature_names: FEATURE_NAMES, source: 'entropo preference store' })}\n`);
    scan = await forEachLabelledTask(store, undefined, async (task, labels) => {
      const vectors = instanceFeatures(task.issue, task.candidates.map((c) => c.patch));
      const row = new Map(task.candidates.map((c, i) => [c.id, vectors[i]]));
      for (const label of labels) {
        const features = row.get(label.candidateId);
        if (!features) continue;
        await write(`${JSON.stringify({ instance_id: task.id, candidate_id: label.candidateId, label: label.accepted ? 1 : 0, features: Array.from(features) })}\n`);
        counts.rows += 1;
        if (label.accepted) counts.positives += 1;
      }
      counts.tasks += 1;
    });
    return counts.rows > 0;
  });
  return { out, ...counts, ...scan!, written };
}
