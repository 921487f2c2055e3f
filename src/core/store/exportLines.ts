/** Builds the exported lines of one task in each training format (schemas/*.schema.json describe them). */
import { defaultTools } from '../tools/defaultTools.js';
import { splitConversation, toChatTools, type ChatMessage, type ChatTool } from './chatMessages.js';
import { preferencePairs, type Label } from './labels.js';
import type { StoredCandidate, TaskRecord } from './storeTypes.js';

/** The export formats: EntroPO's own (with provenance) and Hugging Face TRL's conversational ones. */
export type ExportFormat = 'entropo-dpo' | 'entropo-kto' | 'trl-dpo' | 'trl-kto';

/** Every export format, for validation of user input. */
export const EXPORT_FORMATS: readonly ExportFormat[] = ['entropo-dpo', 'entropo-kto', 'trl-dpo', 'trl-kto'];

/** The version written in each line's `format`; readers refuse a major they do not know. */
export const FORMAT_VERSION = '1.0';

/** True for formats whose lines are preference pairs (the others are single labelled trajectories). */
export function isPairFormat(format: ExportFormat): boolean {
  return format.endsWith('-dpo');
}

/** One exported line, as a plain object ready for JSON.stringify. */
export type ExportLine = Record<string, unknown>;

/** A line and whether its label (or one side of its pair) came from the verifier; TRL lines cannot say so. */
export interface ExportEntry {
  line: ExportLine;
  weak: boolean;
}

interface Conversation {
  candidate: StoredCandidate;
  prompt: ChatMessage[];
  continuation: ChatMessage[];
}

/** The lines of `task` in `format`, given its candidates' labels. */
export function exportTaskLines(task: TaskRecord, labels: readonly Label[], format: ExportFormat, exportedAt: string): ExportEntry[] {
  const conversations = new Map<string, Conversation>();
  for (const candidate of task.candidates) {
    const split = splitConversation(candidate.messages);
    if (split) conversations.set(candidate.id, { candidate, ...split });
  }
  const usable = labels.filter((l) => conversations.has(l.candidateId));
  const tools = task.config.format === 'tools' ? toChatTools(task.tools?.length ? task.tools : defaultTools.map((t) => t.spec)) : undefined;
  const base = { format, tools, exportedAt, task };
  if (isPairFormat(format)) {
    return preferencePairs(usable).map(({ chosen, rejected, weak }) =>
      ({ line: pairLine(base, conversations.get(chosen.candidateId)!, conversations.get(rejected.candidateId)!, weak), weak }));
  }
  return usable.map((label) => ({ line: singleLine(base, conversations.get(label.candidateId)!, label), weak: label.weak }));
}

interface LineBase {
  format: ExportFormat;
  tools: ChatTool[] | undefined;
  exportedAt: string;
  task: TaskRecord;
}

function pairLine(base: LineBase, chosen: Conversation, rejected: Conversation, weak: boolean): ExportLine {
  const head = { format: `${base.format}-${FORMAT_VERSION}` };
  const body = { prompt: chosen.prompt, chosen: chosen.continuation, rejected: rejected.continuation };
  if (base.format === 'trl-dpo') return { ...head, ...body, ...(base.tools ? { tools: base.tools } : {}) };
  return {
    ...head, task_id: base.task.id, ...body, action_format: base.task.config.format,
    ...(base.tools ? { tools: base.tools } : {}), weak_label: weak,
    meta: {
      ...commonMeta(base, chosen.candidate),
      trajectory_ids: [trajectoryId(base.task, chosen.candidate), trajectoryId(base.task, rejected.candidate)],
      candidate_ids: [chosen.candidate.id, rejected.candidate.id],
      chosen_patch: chosen.candidate.patch,
      rejected_patch: rejected.candidate.patch,
      signals: { chosen: chosen.candidate.signals, rejected: rejected.candidate.signals },
    },
  };
}

function singleLine(base: LineBase, conversation: Conversation, label: Label): ExportLine {
  const head = { format: `${base.format}-${FORMAT_VERSION}` };
  const body = { prompt: conversation.prompt, completion: conversation.continuation, label: label.accepted };
  if (base.format === 'trl-kto') return { ...head, ...body, ...(base.tools ? { tools: base.tools } : {}) };
  return {
    ...head, task_id: base.task.id, ...body, action_format: base.task.config.format,
    ...(base.tools ? { tools: base.tools } : {}), weak_label: label.weak,
    meta: {
      ...commonMeta(base, conversation.candidate),
      trajectory_id: trajectoryId(base.task, conversation.candidate),
      candidate_id: conversation.candidate.id,
      patch: conversation.candidate.patch,
      signals: conversation.candidate.signals,
    },
  };
}

function commonMeta(base: LineBase, candidate: StoredCandidate): Record<string, unknown> {
  const { repo, snapshot } = base.task;
  return {
    repo: repoName(repo.remoteUrl) ?? repo.name ?? null,
    base_commit: repo.head ?? snapshot.baseHead,
    snapshot_commit: snapshot.commit,
    model: candidate.model,
    exported_at: base.exportedAt,
  };
}

function trajectoryId(task: TaskRecord, candidate: StoredCandidate): string {
  return `${task.id}/${candidate.id}`;
}

/** `owner/name` of a GitHub-style remote URL (https or scp-like ssh), else the URL itself. */
export function repoName(remoteUrl: string | null | undefined): string | undefined {
  if (!remoteUrl) return undefined;
  const match = /[:/]([^/:]+\/[^/]+?)(?:\.git)?\/?$/.exec(remoteUrl);
  return match ? match[1] : remoteUrl;
}
