/** Validates exported lines against the repository's JSON Schemas, the same ones the trainer reads. */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import type { ExportFormat } from '../../../src/core/store/exportLines.js';
import { PROJECT_ROOT } from '../../helpers/tempRepo.js';

const SCHEMA_DIR = path.join(PROJECT_ROOT, 'schemas');

/** A validator per export format; `errors(line)` lists the schema violations of one parsed line. */
export function exportValidator(): (format: ExportFormat, line: unknown) => string[] {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  for (const name of readdirSync(SCHEMA_DIR).filter((n) => n.endsWith('.schema.json'))) {
    ajv.addSchema(JSON.parse(readFileSync(path.join(SCHEMA_DIR, name), 'utf8')) as object);
  }
  return (format, line) => {
    const validate = ajv.getSchema(`urn:entropo:schema:${format}-1`);
    if (!validate) throw new Error(`no schema for ${format}`);
    return validate(line) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
  };
}

/** The lines of a JSONL file, parsed. */
export function readJsonLines(file: string): Record<string, unknown>[] {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
}
