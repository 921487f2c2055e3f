/**
 * Moving the user's working tree between candidates: Apply (put one in), Replace (take the applied one out
 * and put another in), Undo Apply and Reject of an applied one (take it out). Each is planned file by file
 * before anything is written: what every file must hold now (the snapshot's content, or the applied
 * candidate's) and what it will hold. A file the user changed meanwhile stops the whole switch, so that no
 * edit of theirs is ever overwritten. The extension writes a plan as one edit (one undo step); the core
 * writes it on disk.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { AgentError, ErrorReason } from '../errors.js';
import { patchedTree, withWorkingReader } from './candidateTree.js';
import { parsePatch } from './parse.js';

/** One file of a switch: its content now and after (undefined: the file does not exist). */
export interface FileSwitch {
  /** Relative to the repository's top folder, with forward slashes. */
  path: string;
  expected: string | undefined;
  next: string | undefined;
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
  return withWorkingReader(root, (read) => Promise.all(paths.map(async (file) => {
    const inSnapshot = () => read(snapshotCommit, file);
    const expected = removeTree && touches(request.remove!, file) ? await read(removeTree, file) : await inSnapshot();
    const next = addTree && touches(request.add!, file) ? await read(addTree, file) : await inSnapshot();
    return { path: file, expected, next };
  })), signal);
}

/**
 * `planSwitch`, or undefined when the switch only puts a patch in and that patch changes a binary file, a file
 * mode or a symbolic link: nothing needs taking out then, and plain `git apply` writes it (`applyToWorkingTree`).
 */
export async function planSwitchOrGitApply(root: string, snapshotCommit: string, request: SwitchRequest): Promise<FileSwitch[] | undefined> {
  return planSwitch(root, snapshotCommit, request).catch((error: unknown) => {
    if (request.remove === undefined && error instanceof AgentError && error.message.startsWith(SPECIAL_FILES)) return undefined;
    throw error;
  });
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
 * Checks the plan against the disk, then writes it there: new content, new files, deleted files. `applied`
 * names the candidate the plan takes out, for the refusal (see `changedFilesError`).
 */
export async function writeSwitch(root: string, plan: readonly FileSwitch[], applied?: string): Promise<void> {
  const changed = await unexpectedFiles(root, plan);
  if (changed.length > 0) throw changedFilesError(changed, applied);
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
    throw new AgentError(ErrorReason.PatchDoesNotApply, `${SPECIAL_FILES} (${names}); apply it with git apply.`);
  }
  return patchedTree(root, snapshotCommit, patch, signal);
}

function textPaths(patch: string): string[] {
  return parsePatch(patch).flatMap((f) => [f.oldPath, f.newPath]).filter((p): p is string => p !== null);
}

function touches(patch: string, file: string): boolean {
  return textPaths(patch).includes(file);
}
