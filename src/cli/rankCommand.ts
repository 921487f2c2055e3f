import { createReadStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import type { Message, ToolCall } from '../core/types.js';
import { select } from '../core/verify/select.js';
import type { SignalName } from '../core/verify/signalTypes.js';
import type { VerifiableCandidate } from '../core/verify/verifiable.js';
import { localVerifierProvider } from '../core/verify/local/localVerifier.js';
import { testSignalProvider } from '../core/verify/tests/testSignals.js';
import { verifyCandidates } from '../core/verify/verifyCandidates.js';
import { judgeFromFlags, localModelFromFlags, selectorFromFlags, signalsFromFlags, VERIFY_FLAGS } from './verifyFlags.js';
import { parseFlags } from './options.js';
import { UsageError } from './usageError.js';

const USAGE = `Usage: entropo rank --candidates FILE.jsonl [--out FILE] [--repo-dir DIR] [options]

Ranks externally produced candidates. Each input line is {instance_id, problem_statement, repo?, base_commit?,
candidates: [{id, patch, trajectory?}]}, where a trajectory is a list of OpenAI chat messages. Writes one line
per instance: the ranked ids, every signal per candidate, and one line of explanation per candidate. Static
signals need no checkout; with --repo-dir (a checkout of the repository; base_commit, or HEAD, is the
snapshot) the apply, syntax, regression and reproduction checks run too.`;

const FLAGS = {
  candidates: { type: 'string', value: 'FILE', help: 'Input JSON lines.' },
  out: { type: 'string', value: 'FILE', help: 'Output JSON lines (default: stdout).' },
  'repo-dir': { type: 'string', value: 'DIR', help: 'A checkout of the repository; base_commit (or HEAD) is the snapshot.' },
  'test-command': { type: 'string', value: 'CMD', help: 'Test command for the regression signal (default: detected).' },
  signals: { type: 'string', value: 'LIST', help: 'Comma-separated signals to keep (default: all that can run).' },
  ...VERIFY_FLAGS,
} as const;

interface InputLine {
  instance_id: string;
  problem_statement: string;
  base_commit?: string;
  candidates: { id: string; patch: string; trajectory?: ChatMessage[] }[];
}
interface ChatMessage { role: Message['role']; content: string | null; tool_calls?: { id: string; function: { name: string; arguments: string } }[]; tool_call_id?: string }

/** `entropo rank`: ranks candidates given as JSON lines. */
export async function rankCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, USAGE, FLAGS);
  if (!flags) return 0;
  if (!flags.candidates) throw new UsageError('--candidates FILE is required.');
  const keep = signalsFromFlags(flags);
  const judge = judgeFromFlags(flags);
  const selector = selectorFromFlags(flags);
  const modelPath = localModelFromFlags(flags);
  const out: string[] = [];
  let lineNo = 0;
  for await (const line of createInterface({ input: createReadStream(String(flags.candidates)), crlfDelay: Infinity })) {
    lineNo++;
    if (line.trim() === '') continue;
    const input = parseLine(line, lineNo);
    const candidates: VerifiableCandidate[] = input.candidates.map((c) => ({ id: String(c.id), patch: c.patch ?? '', messages: c.trajectory?.map(fromChat) }));
    const checkout = flags['repo-dir'] ? { root: path.resolve(String(flags['repo-dir'])), snapshotCommit: input.base_commit ?? 'HEAD' } : undefined;
    const tests = checkout && (!keep || keep.has('regression') || keep.has('reproduction'))
      ? testSignalProvider({ root: checkout.root, commit: checkout.snapshotCommit, baseHead: checkout.snapshotCommit, ref: '' }, { command: flags['test-command'] as string | undefined })
      : undefined;
    const local = !keep || keep.has('local') ? localVerifierProvider(input.problem_statement, { modelPath }) : undefined;
    const signals = await verifyCandidates(candidates, { issue: input.problem_statement, checkout, judge, tests, local });
    if (keep) for (const s of signals) for (const name of Object.keys(s.signals) as SignalName[]) if (!keep.has(name)) delete s.signals[name];
    const ranking = select(signals, selector);
    out.push(JSON.stringify({ instance_id: input.instance_id, mode: ranking.mode, ranking: ranking.order, explanations: ranking.explanations,
      signals: Object.fromEntries(signals.map((s) => [s.candidateId, s.signals])) }));
    process.stderr.write(`entropo: ranked ${input.instance_id}: ${ranking.order.join(' > ')}\n`);
  }
  const text = out.length ? `${out.join('\n')}\n` : '';
  if (flags.out) await writeFile(String(flags.out), text);
  else process.stdout.write(text);
  return 0;
}

function parseLine(line: string, lineNo: number): InputLine {
  let value: InputLine;
  try {
    value = JSON.parse(line) as InputLine;
  } catch {
    throw new UsageError(`line ${lineNo} of --candidates is not valid JSON.`);
  }
  if (typeof value.instance_id !== 'string' || typeof value.problem_statement !== 'string' || !Array.isArray(value.candidates)) {
    throw new UsageError(`line ${lineNo} of --candidates needs instance_id, problem_statement and a candidates array.`);
  }
  return value;
}

function fromChat(m: ChatMessage): Message {
  const toolCalls: ToolCall[] | undefined = m.tool_calls?.map((c) => ({ id: c.id, name: c.function.name, arguments: c.function.arguments }));
  return { role: m.role, content: m.content ?? '', ...(toolCalls ? { toolCalls } : {}), ...(m.tool_call_id ? { toolCallId: m.tool_call_id } : {}) };
}
