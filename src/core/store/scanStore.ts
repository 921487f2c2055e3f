/** Reads the store's segment files line by line, accepting only whole, unaltered records of version 1. */
import { createReadStream } from 'node:fs';
import { open, readdir } from 'node:fs/promises';
import * as path from 'node:path';
import { AgentError, ErrorReason } from '../errors.js';
import { recordChecksum } from './checksum.js';
import { DECISION_KINDS, type SkippedLine, type SkipReason, type StoreRecord } from './storeTypes.js';

/** Where a record's line lies, so a second pass can read just that line again. */
export interface RecordLocation {
  file: string;
  offset: number;
  length: number;
}

/** What a scan found besides the records it handed to the visitor. */
export interface ScanResult {
  torn: number;
  skipped: SkippedLine[];
}

/** Segment files are `records-YYYY-MM.jsonl`; their names sort in time order. */
export const SEGMENT_PATTERN = /^records-\d{4}-\d{2}\.jsonl$/;

/** The store's segment files, oldest first; none when the folder does not exist. */
export async function segmentFiles(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((n) => SEGMENT_PATTERN.test(n)).sort().map((n) => path.join(dir, n));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new AgentError(ErrorReason.Io, `Cannot read the preference store ${dir}: ${(error as Error).message}`, { cause: error });
  }
}

/** Calls `visit` with every accepted record in file order; memory use is one line at a time. */
export async function scanStore(dir: string, visit: (record: StoreRecord, at: RecordLocation) => void): Promise<ScanResult> {
  const result: ScanResult = { torn: 0, skipped: [] };
  for (const file of await segmentFiles(dir)) {
    await scanFile(file, (bytes, offset, lineNo, complete) => {
      const checked = checkLine(bytes.toString('utf8'), complete);
      if ('record' in checked) {
        visit(checked.record, { file, offset, length: bytes.length });
        return;
      }
      if (checked.reason === 'torn_tail' || checked.reason === 'truncated') result.torn += 1;
      result.skipped.push({ file: path.basename(file), line: lineNo, reason: checked.reason, excerpt: bytes.subarray(0, 240).toString('utf8').slice(0, 80) });
    });
  }
  return result;
}

/** Reads one record again from where a scan found it; null if it no longer reads back whole. */
export async function readRecordAt(at: RecordLocation): Promise<StoreRecord | null> {
  const handle = await open(at.file, 'r');
  try {
    const buffer = Buffer.alloc(at.length);
    const { bytesRead } = await handle.read(buffer, 0, at.length, at.offset);
    const checked = checkLine(buffer.subarray(0, bytesRead).toString('utf8'), true);
    return 'record' in checked ? checked.record : null;
  } finally {
    await handle.close();
  }
}

type LineVisitor = (bytes: Buffer, offset: number, lineNo: number, complete: boolean) => void;

async function scanFile(file: string, visit: LineVisitor): Promise<void> {
  let pending: Buffer[] = [];
  let pendingLength = 0;
  let offset = 0;
  let lineNo = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      const piece = chunk.subarray(start, nl);
      const line = pendingLength > 0 ? Buffer.concat([...pending, piece]) : piece;
      lineNo += 1;
      if (line.length > 0) visit(line, offset, lineNo, true);
      offset += line.length + 1;
      pending = [];
      pendingLength = 0;
      start = nl + 1;
    }
    if (start < chunk.length) {
      pending.push(chunk.subarray(start));
      pendingLength += chunk.length - start;
    }
  }
  if (pendingLength > 0) visit(Buffer.concat(pending), offset, lineNo + 1, false);
}

type Checked = { record: StoreRecord } | { reason: SkipReason };

function checkLine(text: string, complete: boolean): Checked {
  if (text.trim() === '') return { reason: complete ? 'invalid_record' : 'torn_tail' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { reason: complete ? 'truncated' : 'torn_tail' };
  }
  if (!isObject(value)) return { reason: 'invalid_record' };
  const format = typeof value.format === 'string' ? value.format : '';
  // Another major version may checksum differently; it is refused for its version, not as corrupt.
  if (format.startsWith('entropo-store-') && !/^entropo-store-1\.\d+$/.test(format)) return { reason: 'unsupported_format' };
  if (value.checksum !== recordChecksum(value)) return { reason: 'checksum_mismatch' };
  if (format === '') return { reason: 'invalid_record' };
  return hasShape(value) ? { record: value as unknown as StoreRecord } : { reason: 'invalid_record' };
}

function hasShape(r: Record<string, unknown>): boolean {
  if (typeof r.id !== 'string' || typeof r.timestamp !== 'string') return false;
  if (r.kind === 'task') {
    return typeof r.issue === 'string' && isObject(r.config) && Array.isArray(r.candidates)
      && r.candidates.every((c) => isObject(c) && typeof c.id === 'string' && Array.isArray(c.messages));
  }
  if (r.kind === 'decision') {
    return typeof r.taskId === 'string' && typeof r.candidateId === 'string'
      && (DECISION_KINDS as readonly unknown[]).includes(r.decision);
  }
  return false;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
