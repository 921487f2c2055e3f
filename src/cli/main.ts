import { AgentError } from '../core/errors.js';
import { needsUnsandboxedConsent } from '../core/sandbox/createProcessRunner.js';
import { cliFlag } from '../core/settings/resolveSettings.js';
import { applyCommand, rejectCommand } from './decideCommand.js';
import { EXIT } from './exitCodes.js';
import { exportCommand } from './exportCommand.js';
import { rankCommand } from './rankCommand.js';
import { runCommand } from './runCommand.js';
import { statsCommand } from './statsCommand.js';
import { trainCommand } from './trainCommand.js';
import { UsageError } from './usageError.js';

const COMMANDS: Record<string, { summary: string; run: (argv: string[]) => Promise<number> }> = {
  run: { summary: 'Fix an issue with N rollouts in parallel worktrees; verify, rank and record the candidates.', run: runCommand },
  rank: { summary: 'Rank externally produced candidates (JSON lines) with the hybrid verifier.', run: rankCommand },
  apply: { summary: 'Apply a candidate of a run to the working tree and record it as accepted (the panel\'s Apply).', run: applyCommand },
  reject: { summary: 'Record candidates of a run as rejected; an applied one is taken out first (the panel\'s Reject).', run: rejectCommand },
  export: { summary: 'Write recorded accept/reject decisions as training data (EntroPO or TRL, DPO or KTO).', run: exportCommand },
  train: { summary: 'Fine-tune the model on exported preferences with EntroPO (LoRA, on your GPU).', run: trainCommand },
  stats: { summary: 'Count recorded tasks, decisions and exportable pairs; --delete-all --yes erases the store.', run: statsCommand },
};

function help(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`);
  return `Usage: entropo <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun \`entropo <command> --help\` for the options of a command.\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help());
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) throw new UsageError(`Unknown command "${name}".\n\n${help()}`);
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`entropo: ${error.message}\n`);
      process.exitCode = EXIT.usage;
    } else if (error instanceof AgentError) {
      // The core asks for consent in words; on the command line it is one flag, named exactly.
      const consent = needsUnsandboxedConsent(error) ? ` Pass --${cliFlag('allowUnsandboxed')} to do so.` : '';
      process.stderr.write(`entropo: ${error.message}${consent}\n`);
      process.exitCode = EXIT.error;
    } else {
      process.stderr.write(`entropo: unexpected error: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
      process.exitCode = EXIT.error;
    }
  },
);
