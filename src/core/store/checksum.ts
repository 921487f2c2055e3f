/** Per-record checksums over a canonical JSON form, so any writer in any language computes the same one. */
import { createHash } from 'node:crypto';

/**
 * JSON with object keys sorted at every level and no whitespace. Sorting makes the checksum independent of
 * the key order a writer happened to use (a Python tool rewriting a record must get the same digest).
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[key];
    if (v !== undefined) out[key] = sortKeys(v);
  }
  return out;
}

/** First 16 hex digits of sha256 over the canonical JSON of `record` without its `checksum` field. */
export function recordChecksum(record: object): string {
  const { checksum: _ignored, ...rest } = record as Record<string, unknown>;
  return createHash('sha256').update(canonicalJson(rest)).digest('hex').slice(0, 16);
}
