import { stat } from 'node:fs/promises';
import { AgentError, ErrorReason } from '../errors.js';
import { clip, type Tool } from './tool.js';

const MAX_FILES = 100;
const SEARCH_TIMEOUT_MS = 30_000;

/** Literal search over the repository with git grep: tracked and untracked files, .gitignore respected. */
export const search: Tool = {
  spec: {
    name: 'search',
    description: [
      'Search for a literal term in the repository (files ignored by .gitignore are skipped).',
      '* In a directory: lists the files that contain the term with their match counts (at most 100 files).',
      '* In a file: lists the matching lines with their line numbers.',
    ].join('\n'),
    parameters: {
      type: 'object',
      properties: {
        search_term: { type: 'string', description: 'The literal text to search for.' },
        path: { type: 'string', description: 'File or directory to search in; defaults to the repository root.' },
      },
      required: ['search_term'],
    },
  },
  async run(args, context) {
    const term = args.search_term;
    if (typeof term !== 'string' || term === '') {
      throw new AgentError(ErrorReason.InvalidArgument, 'Parameter search_term is required.');
    }
    const target = await context.workspace.resolve(typeof args.path === 'string' && args.path ? args.path : '.');
    const shown = context.workspace.relative(target);
    const isFile = await stat(target).then((s) => s.isFile(), () => {
      throw new AgentError(ErrorReason.FileNotFound, `The path ${shown} does not exist.`);
    });
    // The path relative to the root, which is the command's working folder: an absolute path of this process
    // may not exist where the command runs (a sandbox, an overlay's namespace). Read literally, not as a glob.
    const gitArgs = ['--literal-pathspecs', 'grep', '-I', '-F', '--untracked', '--no-color', isFile ? '-n' : '-c', '-e', term, '--', shown];
    const result = await context.runner.exec('git', gitArgs, {
      cwd: context.workspace.root, timeoutMs: SEARCH_TIMEOUT_MS, signal: context.signal,
    });
    if (result.cancelled) throw new AgentError(ErrorReason.Cancelled, 'cancelled');
    if (result.exitCode === 1) return { observation: `No matches found for "${term}" in ${shown}.` };
    if (result.exitCode !== 0) {
      throw new AgentError(ErrorReason.Io, `Search failed: ${result.stderr.trim().split('\n')[0] || 'git grep exited with ' + result.exitCode}`);
    }
    const lines = result.stdout.trim().split('\n');
    if (isFile) return { observation: clip(`Matches for "${term}" in ${shown}:\n${lines.join('\n')}`) };
    const files = lines.map((line) => {
      const at = line.lastIndexOf(':');
      return { file: line.slice(0, at), count: Number(line.slice(at + 1)) };
    });
    const total = files.reduce((sum, f) => sum + f.count, 0);
    const listed = files.slice(0, MAX_FILES).map((f) => `./${f.file} (${f.count} matches)`);
    const more = files.length > MAX_FILES ? `\n${files.length - MAX_FILES} more files not shown; narrow the search.` : '';
    return { observation: clip(`Found ${total} matches for "${term}" in ${files.length} files in ${shown}:\n${listed.join('\n')}${more}`) };
  },
};
