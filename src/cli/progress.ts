import { noActionLabel } from '../core/agent/runStep.js';
import type { FixEvent } from '../core/pipeline/fixIssue.js';

/** Renders batch events as one line each on a stream (stderr), with a done-count bar at each rollout's end. */
export function progressPrinter(stream: NodeJS.WritableStream): (event: FixEvent) => void {
  let samples = 0;
  let done = 0;
  const write = (line: string) => stream.write(`${line}\n`);
  return (event) => {
    switch (event.type) {
      case 'batch_start':
        samples = event.samples;
        write(`entropo: ${event.samples} rollouts, ${event.concurrency} at a time`);
        break;
      case 'isolation':
        write(`entropo: workspaces: ${event.kind === 'overlay' ? 'overlays' : 'worktrees'} (${event.reason})`);
        break;
      case 'pruned':
        write(`entropo: removed ${event.batches} workspace batch(es) left by an interrupted run`);
        break;
      case 'checkout_progress':
        write(event.unit === 'worktrees' ? `entropo: checked out ${event.done}/${event.total} worktrees`
          : `entropo: ${event.phase === 'create' ? 'checking out' : 'updating'} the shared checkout: ${event.done}/${event.total} files`);
        break;
      case 'snapshot':
        write(`entropo: snapshot ${event.commit.slice(0, 12)} of your working state (your files are not touched)`);
        break;
      case 'step': {
        const action = event.step.action ? `${event.step.action.tool} ${summarize(event.step.action.args)}` : noActionLabel(event.step);
        write(`  [${event.runId}] step ${event.step.index + 1}: ${action}`);
        break;
      }
      case 'rollout_end': {
        done++;
        const c = event.candidate;
        const width = 20;
        const filled = Math.round((done / Math.max(1, samples)) * width);
        write(`[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${samples} ${c.id} ${c.exitReason}${c.message ? `: ${c.message}` : ''}`);
        break;
      }
      case 'cleanup':
        write('entropo: removing workspaces');
        break;
      case 'verify_start':
        write(`entropo: verifying ${event.candidates} candidates (${event.quickOnly ? 'quick checks only, the run was cancelled: ' : ''}signals: ${event.signals.join(', ')})`);
        break;
      default:
        break;
    }
  };
}

function summarize(args: Record<string, unknown>): string {
  const main = args.cmd ?? args.search_term ?? [args.command, args.path].filter(Boolean).join(' ');
  const text = String(main).replace(/\s+/g, ' ');
  return text.length > 70 ? `${text.slice(0, 67)}...` : text;
}
