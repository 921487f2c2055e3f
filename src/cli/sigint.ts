/**
 * Ctrl-C (and SIGTERM, SIGHUP: `timeout`, a closed terminal, CI) for the commands that run long work: the first
 * cancels it cleanly; for `run` and `rank` a second quits at once.
 */
import { EXIT } from './exitCodes.js';

const STOPPING = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Until the returned function is called, Ctrl-C, SIGTERM or SIGHUP aborts `controller` (the work then
 * removes its workspaces, writes what it finished and ends on its own), and a second one exits at once with
 * the cancelled code.
 */
export function cancelOnSigint(controller: AbortController): () => void {
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(EXIT.cancelled);
    process.stderr.write(`entropo: ${signal === 'SIGINT' ? '' : `${signal}: `}cancelling; cleaning up worktrees (Ctrl-C again to quit at once)\n`);
    controller.abort();
  };
  for (const signal of STOPPING) process.on(signal, onSignal);
  return () => {
    for (const signal of STOPPING) process.off(signal, onSignal);
  };
}

/**
 * Until `stop` is called, Ctrl-C, SIGTERM or SIGHUP aborts `controller`, for work that stops its children
 * itself on the abort and must see them gone before it exits; `received` is the first of them, which the
 * exit code names (`signalExitCode`).
 */
export function abortOnSignals(controller: AbortController): { received: () => NodeJS.Signals | undefined; stop: () => void } {
  let received: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    received ??= signal;
    controller.abort();
  };
  for (const signal of STOPPING) process.on(signal, onSignal);
  return {
    received: () => received,
    stop: () => {
      for (const signal of STOPPING) process.off(signal, onSignal);
    },
  };
}
