/** Whether this machine has a CUDA GPU, asked of the driver before anyone waits for PyTorch to say so. */
import { runProcess } from '../process/groupProcess.js';

/** The GPUs `nvidia-smi -L` lists, or why there are none to be seen. */
export async function detectCudaGpus(): Promise<{ gpus: string[] } | { none: string }> {
  const run = await runProcess('nvidia-smi', ['-L'], { timeoutMs: 15_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
  if (run.spawnError !== undefined) return { none: 'nvidia-smi is not installed (no NVIDIA driver)' };
  if (run.timedOut) return { none: 'nvidia-smi did not answer within 15 s' };
  const gpus = run.stdout.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('GPU '));
  if (run.exitCode !== 0 || gpus.length === 0) return { none: `nvidia-smi lists no GPU${run.stderr.trim() ? ` (${run.stderr.trim().split('\n')[0]})` : ''}` };
  return { gpus };
}
