/**
 * Removes secrets from everything the store writes. Three layers, in this order:
 * 1. exact values known to be secret (the configured API key, secret-named environment variables, values of
 *    the repository's .env files), longest first, also in their JSON-escaped spelling;
 * 2. the shapes of well-known credentials (provider keys and tokens, JWTs, private key blocks, credentials
 *    in URLs, `password=...`-style assignments);
 * 3. long tokens that look random (see `looksRandom` for the rule).
 * Each match becomes `[REDACTED:<kind>]`.
 */

/** One credential shape; `group` names the capture group that holds the secret (default: the whole match). */
interface Pattern {
  kind: string;
  regex: RegExp;
  /** The pattern runs only on strings containing one of these (lower-cased when the regex ignores case). */
  hints: string[];
  group?: number;
  /** Leave values that read as code (`password=password`, `token=self.token`). */
  skipCode?: boolean;
}

// A key ending in a secret word: `DB_PASSWORD`, `apiKey`, `githubToken`, but not `max_tokens` or `tokenizer`.
// Matched from the word on (not from the start of the name) so the regex is cheap on ordinary code.
const SECRET_WORD = '(?:password|passwd|passphrase|secret|secret_?key|token|api_?key|access_?key|private_?key|auth_?key|credentials?)(?![A-Za-z0-9])';
const SECRET_HINTS = ['pass', 'secret', 'token', 'key', 'credential'];

// Word boundaries are written as lookarounds over [A-Za-z0-9] so that `desk-...` or `task-...` never match `sk-`.
const PATTERNS: Pattern[] = [
  { kind: 'private-key', hints: ['PRIVATE KEY'], regex: /-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----[\s\S]*?-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----/g },
  { kind: 'jwt', hints: ['eyJ'], regex: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g },
  { kind: 'api-key', hints: ['sk-'], regex: /(?<![A-Za-z0-9])sk-[A-Za-z0-9_-]{16,}/g },
  { kind: 'github-token', hints: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_'], regex: /(?<![A-Za-z0-9])(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})/g },
  { kind: 'slack-token', hints: ['xox'], regex: /(?<![A-Za-z0-9])xox[abposr]-[A-Za-z0-9-]{10,}/g },
  { kind: 'aws-key', hints: ['AKIA', 'ASIA'], regex: /(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])/g },
  { kind: 'google-key', hints: ['AIza'], regex: /(?<![A-Za-z0-9])AIza[A-Za-z0-9_-]{35}/g },
  { kind: 'npm-token', hints: ['npm_'], regex: /(?<![A-Za-z0-9])npm_[A-Za-z0-9]{36}/g },
  { kind: 'huggingface-token', hints: ['hf_'], regex: /(?<![A-Za-z0-9])hf_[A-Za-z0-9]{30,}/g },
  { kind: 'bearer', hints: ['Bearer', 'Authorization'], regex: /\b(?:Bearer|Authorization:\s*(?:Basic|Token)?)\s+((?=[A-Za-z._~+/=-]*[0-9])[A-Za-z0-9._~+/=-]{16,})/g, group: 1 },
  { kind: 'url-credentials', hints: ['://'], regex: /\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:([^\s/@]+)@/g, group: 1 },
  // A quoted value after a secret-named key, in any language: `password = "x"`, `"api_key": "x"`, `token: 'x'`.
  { kind: 'password', hints: SECRET_HINTS, regex: new RegExp(`${SECRET_WORD}["']?\\s*[:=]\\s*(["'])([^"'\\n]{1,200})\\1`, 'gi'), group: 2 },
  // An unquoted value glued to `=` (.env files, shell, URL queries). Code with spaces around `=` is left alone.
  { kind: 'password', hints: SECRET_HINTS, regex: new RegExp(`${SECRET_WORD}=([^\\s"'&;,)\\]}]{4,})`, 'gi'), group: 1, skipCode: true },
];

// Values after `password=` that are code, not secrets: `password=password`, `token=None`, `key=self.key`.
const CODE_VALUE = /^(?:none|null|nil|true|false|undefined|self|this|os|env|process|args|kwargs|options|config|settings)\b|[.([]|^\$/i;

// Characters of a candidate token (base64 and base64url alphabets); a table keeps the scan a tight loop.
const TOKEN_CHAR = new Uint8Array(128);
for (const ch of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_=-') TOKEN_CHAR[ch.charCodeAt(0)] = 1;

/**
 * True for a token that looks machine-random rather than written by a person. The rule:
 * - at least 20 characters (after leading `+`/`-`, which in a diff are line markers), with at least 2 digits
 *   and a letter: random base62/base64 of that length almost always has both;
 * - never pure hexadecimal (with or without dashes): git SHAs, sha256 digests and UUIDs are hex, are not
 *   secrets, and are needed to make sense of a trajectory; hex secrets are caught by the other layers;
 * - never a path (several `/`-separated parts) or an `sha512-...` integrity hash of a lockfile;
 * - not made of words: identifiers like `win1251_CharToOrderMap` or `GB2312_DISTRIBUTION_RATIO` have at
 *   least 45% of their characters in letter runs of 3 or more (`win`, `Char`, `RATIO`); random base62 of
 *   this length has about 15%;
 * - Shannon entropy at least 4 bits per character, and, under 32 characters, both upper- and lower-case
 *   letters.
 * Measured on the 1,185 issues and patches of the SWE-bench Lite sample: it flags nothing but the base64
 * certificates of one CA bundle (public, but indistinguishable from a key by shape).
 */
export function looksRandom(raw: string): boolean {
  const token = raw.replace(/^[+=-]+/, '');
  if (token.length < 20) return false;
  if (/^[0-9a-fA-F-]+$/.test(token)) return false;
  if (/^sha(?:1|256|384|512)-/.test(token)) return false;
  if ((token.match(/\//g)?.length ?? 0) >= 2) return false;
  const digits = token.match(/[0-9]/g)?.length ?? 0;
  if (digits < 2 || !/[A-Za-z]/.test(token)) return false;
  if (token.length < 32 && !(/[a-z]/.test(token) && /[A-Z]/.test(token))) return false;
  const wordy = (token.match(/[A-Z]?[a-z]{3,}|[A-Z]{3,}/g) ?? []).join('').length;
  if (wordy >= 0.45 * token.length) return false;
  return entropy(token) >= 4;
}

/** Replaces every run of token characters that `looksRandom`; a hand-written scan, 10x faster than a regex here. */
function redactRandom(text: string): string {
  let out = '';
  let copied = 0;
  let start = -1;
  for (let i = 0; i <= text.length; i += 1) {
    const code = i < text.length ? text.charCodeAt(i) : 0;
    if (code < 128 && TOKEN_CHAR[code] === 1) {
      if (start < 0) start = i;
      continue;
    }
    if (start >= 0 && i - start >= 20 && looksRandom(text.slice(start, i))) {
      // A leading `+` or `-` is a diff's line marker, not part of the token: keep it so the patch stays a patch.
      while (text[start] === '+' || text[start] === '-' || text[start] === '=') start += 1;
      out += `${text.slice(copied, start)}${marker('high-entropy')}`;
      copied = i;
    }
    start = -1;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** Shannon entropy in bits per character. */
export function entropy(text: string): number {
  const counts = new Map<string, number>();
  for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / text.length;
    h -= p * Math.log2(p);
  }
  return h;
}

/** Exact values to remove, each with the kind shown in its place. */
export interface KnownSecret {
  value: string;
  kind: string;
}

/** Known secrets shorter than this are ignored: a 3-letter value would blank out ordinary words. */
export const MIN_SECRET_LENGTH = 6;

/** Redacts strings and whole JSON-like values; build one per write, from the secrets known at that time. */
export class Redactor {
  private readonly known: RegExp | null;
  private readonly kinds = new Map<string, string>();

  constructor(secrets: KnownSecret[] = []) {
    const values: string[] = [];
    for (const { value, kind } of secrets) {
      if (value.length < MIN_SECRET_LENGTH) continue;
      for (const spelling of new Set([value, JSON.stringify(value).slice(1, -1)])) {
        if (!this.kinds.has(spelling)) values.push(spelling);
        this.kinds.set(spelling, kind);
      }
    }
    values.sort((a, b) => b.length - a.length);
    this.known = values.length > 0 ? new RegExp(values.map(escapeRegExp).join('|'), 'g') : null;
  }

  /** Returns `text` with every secret replaced. */
  redactString(text: string): string {
    let out = text;
    if (this.known) out = out.replace(this.known, (m) => marker(this.kinds.get(m) ?? 'secret'));
    const lower = out.toLowerCase();
    for (const pattern of PATTERNS) {
      const haystack = pattern.regex.ignoreCase ? lower : out;
      if (!pattern.hints.some((hint) => haystack.includes(hint))) continue;
      out = out.replace(pattern.regex, (match: string, ...rest: unknown[]) => replaceGroup(pattern, match, rest));
    }
    return redactRandom(out);
  }

  /** A deep copy of `value` with every string (keys included) redacted; non-plain objects are not expected. */
  redactDeep<T>(value: T): T {
    return this.walk(value) as T;
  }

  private walk(value: unknown): unknown {
    if (typeof value === 'string') return this.redactString(value);
    if (Array.isArray(value)) return value.map((v) => this.walk(v));
    if (value === null || typeof value !== 'object') return value;
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) out[this.redactString(key)] = this.walk(v);
    return out;
  }
}

// `rest` is what String.replace passes after the match: the groups, then the offset and the whole string.
function replaceGroup({ kind, group, skipCode }: Pattern, match: string, rest: unknown[]): string {
  if (group === undefined) return marker(kind);
  const secret = rest[group - 1];
  if (typeof secret !== 'string' || secret.startsWith('[REDACTED:')) return match;
  if (skipCode && (CODE_VALUE.test(secret) || secret.toLowerCase() === keyBefore(rest).toLowerCase())) return match;
  const at = match.lastIndexOf(secret);
  return `${match.slice(0, at)}${marker(kind)}${match.slice(at + secret.length)}`;
}

// The whole key of a `key=value` match: the match starts at the secret word, so walk back over the name.
function keyBefore(rest: unknown[]): string {
  const text = rest[rest.length - 1] as string;
  const offset = rest[rest.length - 2] as number;
  let start = offset;
  while (start > 0 && /[A-Za-z0-9_]/.test(text[start - 1])) start -= 1;
  const end = text.indexOf('=', offset);
  return text.slice(start, end);
}

function marker(kind: string): string {
  return `[REDACTED:${kind}]`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
