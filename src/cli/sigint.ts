/** Ctrl-C for the commands that run long work: the first cancels it cleanly, a second quits at once. */
import { EXIT } from './exitCodes.js';

/**
 * Until the returned function is called, Ctrl-C aborts `controller` (the work then removes its workspaces
 * and ends on its own), and a second Ctrl-C exits at once with the cancelled code.
 */
export function cancelOnSigint(controller: AbortController): () => void {
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(EXIT.cancelled);
    process.stderr.write('entropo: cancelling; cleaning up worktrees (Ctrl-C again to quit at once)\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  return () => process.off('SIGINT', onSigint);
}
