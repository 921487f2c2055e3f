/** Shared interfaces of the engine: models, processes, workspaces and the records they produce. */

/** A chat role in OpenAI's vocabulary; `tool` carries the observation of a native tool call. */
export type Role = 'system' | 'user' | 'assistant' | 'tool';

/** One tool call requested by the model; `arguments` is the raw JSON text the model produced. */
export interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}

/** One chat message, stored exactly as it was sent to or received from the model. */
export interface Message {
  role: Role;
  content: string;
  toolCalls?: ToolCall[];
  toolCallId?: string;
}

/** A tool as the model sees it: a name, a description and a JSON Schema for its parameters. */
export interface ToolSpec {
  name: string;
  description: string;
  parameters: {
    type: 'object';
    properties: Record<string, { type: string; description: string; enum?: string[]; items?: { type: string } }>;
    required: string[];
  };
}

/** Token and money accounting for one model call or a sum of calls. */
export interface Usage {
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
}

/** Sampling parameters; `extra` is passed to the server as is (top_k, repetition_penalty for vLLM). */
export interface SamplingParams {
  temperature?: number;
  topP?: number;
  maxTokens?: number;
  seed?: number;
  /** Generation ends at any of these strings, which the answer then leaves out (the text format stops at `</function>`). */
  stop?: string[];
  extra?: Record<string, unknown>;
}

/** One request to a model. */
export interface ModelRequest {
  messages: Message[];
  /** Present only for the native tool-call format. */
  tools?: ToolSpec[];
  sampling?: SamplingParams;
  signal?: AbortSignal;
}

/** What a model answered: text, native tool calls (possibly none) and usage. */
export interface ModelResponse {
  content: string;
  toolCalls: ToolCall[];
  usage: Usage;
  finishReason?: string;
}

/** A chat model. Implementations: the OpenAI-compatible client and the scripted model. */
export interface Model {
  /** Model name as recorded in trajectories. */
  readonly name: string;
  complete(request: ModelRequest): Promise<ModelResponse>;
}

/** Options of one subprocess run. */
export interface RunOptions {
  cwd: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Environment for the child; defaults to a scrubbed copy of the parent's. */
  env?: Record<string, string>;
  /** Bytes kept of each stream; the rest is dropped and `truncated` is set. */
  maxOutputBytes?: number;
  stdin?: string;
}

/** The outcome of one subprocess run; a timeout or cancel is a result, not an exception. */
export interface ProcessResult {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  cancelled: boolean;
  truncated: boolean;
  durationMs: number;
}

/** Runs commands. `shell` runs a bash command line; `exec` runs a program with an argv and no shell. */
export interface ProcessRunner {
  shell(command: string, options: RunOptions): Promise<ProcessResult>;
  exec(file: string, args: string[], options: RunOptions): Promise<ProcessResult>;
}

/**
 * A private mount namespace that holds copy-on-write workspaces (see src/core/worktree/README.md). Its
 * mounts exist only inside it: this process reaches them through `hostRoot`, and runs programs that must see
 * them (git, the sandbox) through `enter`.
 */
export interface MountNamespace {
  /**
   * argv prefix that runs a program inside the namespace, in the caller's working directory (nsenter ...
   * --wd=. --). It joins the namespace's pid namespace too, so that nothing it starts outlives the namespace.
   */
  enter: string[];
  /**
   * The same without joining the pid namespace, for a program that reports its children's pids to this
   * process (bubblewrap, whose sandbox is placed in a cgroup by pid); it must end with this process itself.
   */
  enterKeepingPids: string[];
  /** `/proc/<pid>/root` of a process that holds the namespace: a path P inside is `hostRoot + P` here. */
  hostRoot: string;
}

/** A directory the agent may read and write; every path is confined to `root`. */
export interface Workspace {
  /** Absolute, symlink-resolved root directory. */
  readonly root: string;
  /** Resolves a path given by the model to an absolute path inside the root, or throws AgentError. */
  resolve(path: string): Promise<string>;
  /** Path relative to the root, with forward slashes. */
  relative(absolutePath: string): string;
}

/** Why a loop ended. */
export type ExitReason = 'submitted' | 'limits_exceeded' | 'cancelled' | 'model_error' | 'format_error' | 'crashed';

/** Limits of one rollout; every field has a documented default in agent/config.ts. */
export interface Limits {
  maxSteps: number;
  maxContextTokens: number;
  maxNewTokens: number;
  wallTimeMs: number;
  /** US dollars over the whole rollout; no limit when absent. */
  maxCostUsd?: number;
  toolTimeoutMs: number;
  /** Prompt plus completion tokens over the whole rollout; no limit when absent. */
  maxTotalTokens?: number;
}

/** One step of a trajectory: what the model said, the action parsed from it, and the observation. */
export interface Step {
  index: number;
  /** Reasoning text of the assistant message (the part before the action in the text format). */
  thought: string;
  action: { tool: string; args: Record<string, unknown> } | null;
  observation: string;
  /** True when the model output could not be parsed into exactly one action. */
  formatError: boolean;
  /** True when that output had no whole action because it was cut off at the token limit (the limit's doing, not the format's). */
  cut?: true;
  usage: Usage;
  modelMs: number;
  toolMs: number;
}
