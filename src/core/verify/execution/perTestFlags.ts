/** Makes a configured test command print per-test outcomes, for the runners whose flags for that are known. */
import type { ResultFormat } from './testResults.js';

/** A configured command as it will run, the format to read, and what could not be done, for people. */
export interface PerTestCommand {
  command: string;
  format: ResultFormat;
  /** Set when no per-test flag could be added: says why outcomes may not be readable per test. */
  note?: string;
}

// The runner's own word in a command line: `pytest`, `py.test`, `python -m pytest`, `go test`, ...
const PYTEST = /(^|[\s;&|(/])((?:\S*python[\d.]*\s+-m\s+)?(?:pytest|py\.test))(?=\s|$)/;
const UNITTEST = /(^|[\s;&|(])(\S*python[\d.]*\s+-m\s+unittest)(?=\s|$)/;
const GO_TEST = /(^|[\s;&|(])(go\s+test)(?=\s|$)/;
const CARGO_TEST = /(^|[\s;&|(])(cargo\s+test)(?=\s|$)/;

/**
 * Adds what the runner needs to report each test: `-rA` for pytest (every outcome in its short summary),
 * `-v` for unittest, `-json` for go test. cargo test reports per test already. For any other command the
 * output is read as it comes, and `note` says that no flag was added.
 */
export function withPerTestOutput(command: string): PerTestCommand {
  const pytest = PYTEST.exec(command);
  if (pytest) {
    // -rA names every outcome; an -r the user gave (say -rf) would otherwise hide the passes.
    const has = /(^|\s)-r\S*A/.test(command);
    return { command: has ? command : insertAfter(command, pytest, ' -rA'), format: 'pytest' };
  }
  const unittest = UNITTEST.exec(command);
  if (unittest) {
    const has = /(^|\s)(-v|--verbose)(?=\s|$)/.test(command);
    return { command: has ? command : insertAfter(command, unittest, ' -v'), format: 'unittest' };
  }
  const go = GO_TEST.exec(command);
  if (go) return { command: /(^|\s)-json(?=\s|$)/.test(command) ? command : insertAfter(command, go, ' -json'), format: 'go-json' };
  if (CARGO_TEST.test(command)) {
    const quiet = /(^|\s)(-q|--quiet)(?=\s|$)/.test(command);
    return { command, format: 'cargo', ...(quiet ? { note: 'cargo test -q prints no test names; outcomes may not be readable per test' } : {}) };
  }
  return { command, format: 'auto', note: 'no per-test reporting flag is known for this command; its output is read as printed' };
}

function insertAfter(command: string, match: RegExpExecArray, flag: string): string {
  const end = match.index + match[1].length + match[2].length;
  return command.slice(0, end) + flag + command.slice(end);
}
