/** Splits a git diff into per-file sections with their old and new paths, quoted names included. */

/** One file's part of a git diff. */
export interface FilePatch {
  /** Path before the change, or null for an added file. */
  oldPath: string | null;
  /** Path after the change, or null for a deleted file. */
  newPath: string | null;
  status: 'added' | 'deleted' | 'modified' | 'renamed' | 'copied';
  binary: boolean;
  /** Lines from `diff --git` up to the first hunk or binary payload. */
  header: string[];
  /** Hunks (`@@` lines and their content) or the binary payload. */
  body: string[];
}

const DIFF_LINE = 'diff --git ';

/** Parses the output of `git diff` (any prefixes, quoted or raw paths) into file sections, in patch order. */
export function parsePatch(patch: string): FilePatch[] {
  const sections: string[][] = [];
  for (const line of patch.split('\n')) {
    if (line.startsWith(DIFF_LINE)) sections.push([line]);
    else if (sections.length > 0) sections.at(-1)?.push(line);
  }
  return sections.map(parseSection);
}

function parseSection(lines: string[]): FilePatch {
  let end = lines.findIndex((line, i) => i > 0 && (line.startsWith('@@') || line === 'GIT binary patch'));
  if (end < 0) end = lines.length;
  const header = lines.slice(0, end);
  const body = trimTrailingEmpty(lines.slice(end));
  const field = (prefix: string): string | undefined => {
    const line = header.find((l) => l.startsWith(prefix));
    return line === undefined ? undefined : unquote(stripTab(line.slice(prefix.length)));
  };
  const fromDiffLine = diffLinePaths(header[0].slice(DIFF_LINE.length));
  const minus = field('--- ');
  const plus = field('+++ ');
  const added = header.some((l) => l.startsWith('new file mode')) || minus === '/dev/null';
  const deleted = header.some((l) => l.startsWith('deleted file mode')) || plus === '/dev/null';
  const renamedFrom = field('rename from ') ?? field('copy from ');
  const renamedTo = field('rename to ') ?? field('copy to ');
  const oldPath = added ? null : (renamedFrom ?? stripPrefix(minus) ?? fromDiffLine[0]);
  const newPath = deleted ? null : (renamedTo ?? stripPrefix(plus) ?? fromDiffLine[1]);
  const copied = header.some((l) => l.startsWith('copy from '));
  const status = added ? 'added' : deleted ? 'deleted' : copied ? 'copied' : renamedFrom ? 'renamed' : 'modified';
  const binary = body[0] === 'GIT binary patch' || header.some((l) => l.startsWith('Binary files '));
  return { oldPath, newPath, status, binary, header, body };
}

/** Paths of `a/<old> b/<new>` in a `diff --git` line; without renames both names are equal, which settles spaces. */
function diffLinePaths(rest: string): [string, string] {
  if (rest.startsWith('"')) {
    const end = closingQuote(rest);
    const first = unquote(rest.slice(0, end + 1));
    const second = unquote(rest.slice(end + 2));
    return [dropPrefix(first), dropPrefix(second)];
  }
  if (rest.endsWith('"')) {
    const start = rest.lastIndexOf(' "');
    return [dropPrefix(rest.slice(0, start)), dropPrefix(unquote(rest.slice(start + 1)))];
  }
  const half = (rest.length - 1) / 2;
  if (Number.isInteger(half) && rest[half] === ' ' && rest.slice(0, half).slice(2) === rest.slice(half + 1).slice(2)) {
    return [dropPrefix(rest.slice(0, half)), dropPrefix(rest.slice(half + 1))];
  }
  const space = rest.indexOf(' ');
  return [dropPrefix(rest.slice(0, space)), dropPrefix(rest.slice(space + 1))];
}

function closingQuote(text: string): number {
  for (let i = 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i;
  }
  return text.length - 1;
}

// Our patches use a/ and b/; any single leading component is accepted for patches made elsewhere.
function dropPrefix(path: string): string {
  const slash = path.indexOf('/');
  return slash >= 0 ? path.slice(slash + 1) : path;
}

function stripPrefix(path: string | undefined): string | undefined {
  if (path === undefined || path === '/dev/null') return undefined;
  return dropPrefix(path);
}

// git appends a tab to ---/+++ names that contain a space, for the benefit of GNU patch.
function stripTab(text: string): string {
  return text.endsWith('\t') ? text.slice(0, -1) : text;
}

const ESCAPES: Record<string, number> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13, '"': 34, '\\': 92 };

/** Decodes a C-style quoted path as git writes it (octal escapes are UTF-8 bytes); other text is returned as is. */
export function unquote(text: string): string {
  if (text.length < 2 || !text.startsWith('"') || !text.endsWith('"')) return text;
  const chunks: Buffer[] = [];
  for (const match of text.slice(1, -1).matchAll(/\\([0-7]{3}|[\s\S])|[^\\]+/g)) {
    const escape = match[1];
    if (escape === undefined) chunks.push(Buffer.from(match[0], 'utf8'));
    else if (escape.length === 3) chunks.push(Buffer.from([parseInt(escape, 8)]));
    else chunks.push(ESCAPES[escape] === undefined ? Buffer.from(escape, 'utf8') : Buffer.from([ESCAPES[escape]]));
  }
  return Buffer.concat(chunks).toString('utf8');
}

function trimTrailingEmpty(lines: string[]): string[] {
  let end = lines.length;
  while (end > 0 && lines[end - 1] === '') end--;
  return lines.slice(0, end);
}
