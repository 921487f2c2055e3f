/**
 * A child process that appends synthetic tasks to a preference store in a loop, for the crash and
 * concurrency tests. It prints `<seed> <taskId>` after each append has returned, so the parent knows exactly
 * which records were reported as written before it killed us, and `ready` after the first one: by then the
 * code is compiled and warm, so a kill timed from `ready` lands among appends, not in start-up.
 *
 * Usage: node --import tsx test/helpers/storeWriterMain.ts STORE_DIR FIRST_SEED COUNT FSYNC(0|1) MAX_STEPS
 */
import { PreferenceStore } from '../../src/core/store/preferenceStore.js';
import { syntheticTask } from '../core/store/syntheticTask.js';

/** Steps of the task of `seed`: 1 to `maxSteps`, so record sizes vary from about 15 KB to 440 KB at 30. */
export function stepsOf(seed: number, maxSteps: number): number {
  return 1 + (seed % maxSteps);
}

async function main(): Promise<void> {
  const [dir, firstSeed, count, fsync, maxSteps] = process.argv.slice(2);
  // No environment secrets: the synthetic records must be written exactly as generated.
  const store = PreferenceStore.open(dir, { fsync: fsync === '1', env: {} });
  for (let i = 0; i < Number(count); i += 1) {
    const seed = Number(firstSeed) + i;
    const id = await store.appendTask(syntheticTask(seed, { steps: stepsOf(seed, Number(maxSteps)) }));
    // Pipes are written synchronously on Linux, so a printed id really left before the next append began.
    process.stdout.write(`${seed} ${id}\n`);
    if (i === 0) process.stdout.write('ready\n');
  }
}

if (process.argv[1]?.endsWith('storeWriterMain.ts')) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  });
}
