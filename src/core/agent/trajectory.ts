import { appendFile, mkdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { ExitReason, Message, Step, Usage } from '../types.js';
import type { AgentConfig } from './config.js';

/** Version of the trajectory file format; readers refuse an unknown major. */
export const TRAJECTORY_FORMAT = 'entropo-trajectory-1.0';

/** First line of a trajectory file. */
export interface TrajectoryHeader {
  type: 'header';
  format: string;
  id: string;
  startedAt: string;
  model: string;
  config: AgentConfig;
  issue: string;
  /** The system prompt and the issue message. */
  messages: Message[];
}

/** One line per step: the step and the messages it appended to the conversation. */
export interface TrajectoryStep {
  type: 'step';
  step: Step;
  messages: Message[];
}

/** Last line, written when the run ends for any reason. */
export interface TrajectoryEnd {
  type: 'end';
  exitReason: ExitReason;
  result?: string;
  message?: string;
  usage: Usage;
  steps: number;
  wallMs: number;
}

/** A trajectory as read back from disk. */
export interface Trajectory {
  header: TrajectoryHeader;
  steps: TrajectoryStep[];
  end?: TrajectoryEnd;
  /** True when the last line was torn (the writer died mid-line) and was skipped. */
  tornTail: boolean;
}

/** Appends trajectory lines; each line is complete JSON, so the file is valid after every step. */
export class TrajectoryWriter {
  private ready: Promise<void> | undefined;

  constructor(readonly file: string) {}

  async write(line: TrajectoryHeader | TrajectoryStep | TrajectoryEnd): Promise<void> {
    this.ready ??= mkdir(path.dirname(this.file), { recursive: true }).then(() => undefined);
    await this.ready;
    await appendFile(this.file, `${JSON.stringify(line)}\n`);
  }
}

/** Reads a trajectory file; a torn last line is reported and skipped, any other bad line is an error. */
export async function readTrajectory(file: string): Promise<Trajectory> {
  const text = await readFile(file, 'utf8');
  const lines = text.split('\n');
  // The last element is '' after a complete final line, or the torn remainder of an interrupted write.
  const tornTail = lines[lines.length - 1] !== '';
  const complete = lines.slice(0, -1);
  const parsed = complete.map((line, i) => {
    try {
      return JSON.parse(line) as TrajectoryHeader | TrajectoryStep | TrajectoryEnd;
    } catch {
      throw new Error(`${file}: line ${i + 1} is not valid JSON.`);
    }
  });
  const header = parsed[0];
  if (!header || header.type !== 'header') throw new Error(`${file}: the first line is not a trajectory header.`);
  if (header.format.split('-').pop()?.split('.')[0] !== TRAJECTORY_FORMAT.split('-').pop()?.split('.')[0]) {
    throw new Error(`${file}: unsupported trajectory format ${header.format}.`);
  }
  return {
    header,
    steps: parsed.filter((l): l is TrajectoryStep => l.type === 'step'),
    end: parsed.find((l): l is TrajectoryEnd => l.type === 'end'),
    tornTail,
  };
}

/** The whole conversation of a trajectory, in order. */
export function trajectoryMessages(trajectory: Trajectory): Message[] {
  return [...trajectory.header.messages, ...trajectory.steps.flatMap((s) => s.messages)];
}
