import { normalizedTokens } from '../code/tokens.js';
import { parsePatch } from '../worktree/parse.js';
import type { SignalValue } from './signalTypes.js';
import type { VerifiableCandidate } from './verifiable.js';

/** Above this size a patch is compared by its whitespace-normalized text only, to bound parsing time. */
const MAX_TOKENIZED_CHARS = 100_000;

/**
 * Signal 6: candidates clustered by token-equivalent patches (same files; added and removed code equal up
 * to whitespace and comments, through tree-sitter); the score is the size of the candidate's cluster.
 */
export async function agreementSignals(candidates: readonly VerifiableCandidate[]): Promise<Map<string, SignalValue>> {
  const keys = new Map<string, string>();
  const byText = new Map<string, string>();
  for (const c of candidates) {
    if (c.patch.trim() === '') continue;
    // Identical patches are common (that is the point of voting); tokenize each text once.
    if (!byText.has(c.patch)) byText.set(c.patch, await patchKey(c.patch));
    keys.set(c.id, byText.get(c.patch)!);
  }
  const clusters = new Map<string, string[]>();
  for (const [id, key] of keys) clusters.set(key, [...(clusters.get(key) ?? []), id]);
  const out = new Map<string, SignalValue>();
  for (const c of candidates) {
    const key = keys.get(c.id);
    if (key === undefined) {
      out.set(c.id, { status: 'ok', score: 0, detail: 'empty patch, no vote' });
      continue;
    }
    const members = clusters.get(key)!;
    const others = members.filter((id) => id !== c.id);
    const detail = others.length === 0 ? 'unique patch' : `${members.length} agree (${members.join(', ')})`;
    out.set(c.id, { status: 'ok', score: members.length, detail, data: { cluster: members } });
  }
  return out;
}

async function patchKey(patch: string): Promise<string> {
  if (patch.length > MAX_TOKENIZED_CHARS) return patch.replace(/\s+/g, ' ').trim();
  const files = parsePatch(patch).sort((a, b) => String(a.newPath ?? a.oldPath).localeCompare(String(b.newPath ?? b.oldPath)));
  const parts: string[] = [];
  for (const file of files) {
    const path = file.newPath ?? file.oldPath ?? '';
    if (file.binary) {
      parts.push(`${file.status} ${path}\n${file.body.join('\n')}`);
      continue;
    }
    const added = file.body.filter((l) => l.startsWith('+')).map((l) => l.slice(1)).join('\n');
    const removed = file.body.filter((l) => l.startsWith('-')).map((l) => l.slice(1)).join('\n');
    parts.push(`${file.status} ${path}\n${await tokens(path, added)}\n${await tokens(path, removed)}`);
  }
  return parts.join('\n\0\n');
}

async function tokens(path: string, code: string): Promise<string> {
  return (await normalizedTokens(path, code)).join(' ');
}
