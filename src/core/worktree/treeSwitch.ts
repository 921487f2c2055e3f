/**
 * Moving the user's working tree between candidates: Apply (put one in), Replace (take the applied one out
 * and put another in), Undo Apply and Reject of an applied one (take it out). Each is planned file by file
 * before anything is written: what every file must hold now (the snapshot's content, or the applied
 * candidate's) and what it will hold. A file the user changed meanwhile stops the whole switch, so that no
 * edit of theirs is ever overwritten. The extension writes a plan as one edit (one undo step); the core
 * writes it on disk. A patch that changes a binary file, a file mode or a link goes through git instead.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { AgentError, ErrorReason } from '../errors.js';
import { applyToWorkingTree, patchedTree, takeOutOfWorkingTree, withWorkingReader } from './candidateTree.js';
import { parsePatch } from './parse.js';
import { applyPatch, changedFiles } from './patch.js';

/** One file of a switch: its content now and after (undefined: the file does not exist). */
export interface FileSwitch {
  /** Relative to the repository's top folder, with forward slashes. */
  path: string;
  expected: string | undefined;
  next: string | undefined;
  /** True when `expected` is the applied candidate's content (the switch takes it out of this file). */
  fromApplied?: boolean;
}

/** What to take out of the working tree and what to put in, as patches against the snapshot. */
export interface SwitchRequest {
  /** The applied candidate's patch, to take out. */
  remove?: string;
  /** The patch to apply. */
  add?: string;
}

/**
 * Plans a switch: every file either patch touches, with what it must hold now and what it will hold.
 * Throws AgentError(PatchDoesNotApply) for a patch that does not apply to the snapshot, or that changes a
 * binary file, a file mode or a symbolic link (those only plain `git apply` writes).
 */
export async function planSwitch(root: string, snapshotCommit: string, request: SwitchRequest, signal?: AbortSignal): Promise<FileSwitch[]> {
  const [removeTree, addTree] = await Promise.all([request.remove, request.add].map((patch) => (patch ? treeOf(root, snapshotCommit, patch, signal) : undefined)));
  const paths = [...new Set([...textPaths(request.remove ?? ''), ...textPaths(request.add ?? '')])];
  // Contents as they belong on disk: a file with CRLF line endings or a filter driver is not stored as it is written.
  return withWorkingReader(root, paths, (read) => Promise.all(paths.map(async (file) => {
    const inSnapshot = () => read(snapshotCommit, file);
    const fromApplied = removeTree !== undefined && touches(request.remove!, file);
    const expected = fromApplied ? await read(removeTree, file) : await inSnapshot();
    const next = addTree && touches(request.add!, file) ? await read(addTree, file) : await inSnapshot();
    return { path: file, expected, next, ...(fromApplied ? { fromApplied } : {}) };
  })), signal);
}

/**
 * `planSwitch`, or undefined when a patch of the switch changes a binary file, a file mode or a symbolic link:
 * then `switchWithGitApply` makes the switch.
 */
export async function planSwitchOrGitApply(root: string, snapshotCommit: string, request: SwitchRequest): Promise<FileSwitch[] | undefined> {
  return planSwitch(root, snapshotCommit, request).catch((error: unknown) => {
    if (error instanceof AgentError && error.message.startsWith(SPECIAL_FILES)) return undefined;
    throw error;
  });
}

/**
 * The switch made with git itself, for patches `planSwitch` cannot write: `git apply -R` takes the applied
 * candidate (`applied` names it, for the refusal) out, refused where a file changed since; plain `git apply`
 * puts the other in, refused where a file differs from the snapshot. When the second fails, the first is put
 * back, so that a refused Replace leaves the tree as it was.
 */
export async function switchWithGitApply(root: string, snapshotCommit: string, request: SwitchRequest, applied?: string, onWarning?: (message: string) => void): Promise<void> {
  if (request.remove) await takeOutOfWorkingTree(root, request.remove, (files) => changedFilesError(files.length ? files : changedFiles(request.remove!), applied), onWarning);
  if (!request.add) return;
  try {
    await applyToWorkingTree(root, snapshotCommit, request.add, onWarning);
  } catch (error) {
    if (request.remove) await applyPatch(root, request.remove, { onWarning });
    throw error;
  }
}

/** The files of a plan whose content on disk is not what the plan expects (changed by the user meanwhile). */
export async function unexpectedFiles(root: string, plan: readonly FileSwitch[]): Promise<string[]> {
  const changed: string[] = [];
  for (const file of plan) {
    const now = await readFile(path.join(root, file.path), 'utf8').catch(() => undefined);
    if (now !== file.expected) changed.push(file.path);
  }
  return changed;
}

/**
 * The refusal for files the user changed: named, with what to do. With `applied`, the switch was to take that
 * candidate out (Undo Apply, Reject, Replace), and the files changed since it was applied.
 */
export function changedFilesError(files: readonly string[], applied?: string): AgentError {
  const names = files.join(', ');
  return new AgentError(ErrorReason.PatchDoesNotApply, applied
    ? `${applied}'s change was not taken out: ${names} changed since it was applied, and your edits are never overwritten. Take it out by hand (Source Control), or put those files back as ${applied} left them.`
    : `Not applied: ${names} changed since the candidates were made. Commit or stash those changes, or run again.`);
}

/**
 * Why the plan cannot be written as the disk is now, or undefined when it can: the files not as the plan
 * expects them, each blamed on what last wrote it. A file of `applied` (the candidate the plan takes out)
 * changed since it was applied; a file only the new candidate touches changed since the candidates were made.
 */
export async function planRefusal(root: string, plan: readonly FileSwitch[], applied?: string): Promise<AgentError | undefined> {
  const changed = await unexpectedFiles(root, plan);
  if (changed.length === 0) return undefined;
  if (applied === undefined) return changedFilesError(changed);
  const ofApplied = plan.filter((f) => changed.includes(f.path) && f.fromApplied).map((f) => f.path);
  const others = changed.filter((path) => !ofApplied.includes(path));
  if (ofApplied.length === 0) return changedFilesError(others);
  const error = changedFilesError(ofApplied, applied);
  return others.length === 0 ? error : new AgentError(error.reason, `${error.message} ${others.join(', ')} also changed since the candidates were made.`);
}

/**
 * Checks the plan against the disk (see `planRefusal`), then writes it there: new content, new files, deleted
 * files. `applied` names the candidate the plan takes out.
 */
export async function writeSwitch(root: string, plan: readonly FileSwitch[], applied?: string): Promise<void> {
  const refusal = await planRefusal(root, plan, applied);
  if (refusal) throw refusal;
  for (const file of plan) {
    const target = path.join(root, file.path);
    if (file.next === undefined) await rm(target, { force: true });
    else {
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(target, file.next);
    }
  }
}

const SPECIAL_FILES = 'The candidate changes a binary file, a file mode or a symbolic link';

async function treeOf(root: string, snapshotCommit: string, patch: string, signal?: AbortSignal): Promise<string> {
  // A mode change (old/new mode), an executable or a link as a new or deleted file: not plain text edits.
  const special = parsePatch(patch).filter((f) => f.binary || f.header.some((l) => /^(old|new) mode /.test(l) || /^(new|deleted) file mode (?!100644$)/.test(l)));
  if (special.length > 0) {
    const names = special.map((f) => f.newPath ?? f.oldPath).join(', ');
    throw new AgentError(ErrorReason.PatchDoesNotApply, `${SPECIAL_FILES} (${names}), which only git apply writes.`);
  }
  return patchedTree(root, snapshotCommit, patch, signal);
}

function textPaths(patch: string): string[] {
  return parsePatch(patch).flatMap((f) => [f.oldPath, f.newPath]).filter((p): p is string => p !== null);
}

function touches(patch: string, file: string): boolean {
  return textPaths(patch).includes(file);
}
