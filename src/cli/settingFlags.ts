/** The CLI's flags for settings, made from their definitions in src/core/settings, and the settings they give. */
import * as path from 'node:path';
import { AgentError, ErrorReason } from '../core/errors.js';
import type { SettingDef } from '../core/settings/settingKinds.js';
import { cliFlag, resolveSettings, type GivenValue } from '../core/settings/resolveSettings.js';
import { SETTINGS, type SettingName, type Settings } from '../core/settings/settings.js';
import type { Flag } from './options.js';
import { UsageError } from './usageError.js';

/** The settings a command offers as flags: every setting of these groups that the CLI has. */
export function offered(...groups: Record<string, SettingDef>[]): SettingName[] {
  return groups.flatMap((group) => Object.keys(group) as SettingName[]).filter((name) => (SETTINGS[name] as SettingDef).only?.frontEnd !== 'vscode');
}

/** Flags (with --help lines) for the settings `names`. */
export function settingFlags(names: readonly SettingName[]): Record<string, Flag> {
  return Object.fromEntries(names.map((name) => {
    const def = SETTINGS[name] as SettingDef;
    const flag: Flag = def.kind === 'boolean'
      ? { type: 'boolean', help: switchHelp(def) }
      : { type: 'string', multiple: def.kind === 'list', value: placeholder(def), help: `${def.doc.replace(/\.$/, '')}${facts(def)}.` };
    return [cliFlag(name), def.short ? { ...flag, short: def.short } : flag];
  }));
}

/**
 * The settings from parsed flags: each flag of `names` that was given, converted from text, and the default
 * for every other setting; a wrong value is a usage error that names the flag and what it must be.
 */
export function settingsFromFlags(flags: Record<string, unknown>, names: readonly SettingName[]): Settings {
  const given: Partial<Record<SettingName, GivenValue>> = {};
  for (const name of names) {
    const def = SETTINGS[name] as SettingDef;
    const raw = flags[cliFlag(name)];
    if (raw === undefined) continue;
    given[name] = fromText(def, raw);
    if (def.cliEnables) given[def.cliEnables as SettingName] = { value: true };
  }
  try {
    return resolveSettings(given, (name) => `--${cliFlag(name)}`);
  } catch (error) {
    if (error instanceof AgentError && error.reason === ErrorReason.Config) throw new UsageError(error.message);
    throw error;
  }
}

const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i;

// What the user typed, as the value its definition expects; text that is no number or JSON stays text, so
// that the check says what was wrong with it.
function fromText(def: SettingDef, raw: unknown): GivenValue {
  if (def.kind === 'boolean') return { value: !def.default };
  if (def.kind === 'list') return { value: raw };
  const text = String(raw);
  const typed = JSON.stringify(text);
  // Decimal only: Number() would also take 0x4, 0b11 and 1_0-free forms nobody means as a count.
  if (def.kind === 'integer' || def.kind === 'number') return { value: DECIMAL.test(text.trim()) ? Number(text) : Number.NaN, typed };
  if (def.kind === 'object') {
    try {
      return { value: JSON.parse(text), typed };
    } catch {
      return { value: text, typed };
    }
  }
  if (def.kind === 'string' && def.path && text !== '') return { value: path.resolve(text), typed };
  return { value: text, typed };
}

function placeholder(def: SettingDef): string {
  if (def.kind === 'choice') return def.values.join('|');
  return def.placeholder ?? 'VALUE';
}

// " (1 to 16; default 4)", " (default tools)", " (repeatable)": what --help says besides the doc line.
function facts(def: SettingDef): string {
  const parts: string[] = [];
  if (def.kind === 'integer' || def.kind === 'number') {
    const above = def.kind === 'number' && def.exclusiveMin;
    if (def.min !== undefined && def.max !== undefined) parts.push(`${above ? 'above ' : ''}${def.min} to ${def.max}`);
    else if (def.min !== undefined) parts.push(above ? `above ${def.min}` : `at least ${def.min}`);
  }
  if (def.kind === 'list') parts.push('repeatable');
  const shown = def.kind === 'object' ? (Object.keys(def.default).length ? JSON.stringify(def.default) : '') : def.default;
  if (shown !== undefined && shown !== '' && def.kind !== 'list') parts.push(`default ${shown}`);
  return parts.length ? ` (${parts.join('; ')})` : '';
}

function switchHelp(def: SettingDef): string {
  const doc = def.doc.replace(/\.$/, '');
  return def.default === true ? `${doc}; on by default, this flag turns it off.` : `${doc}; off unless this flag is given.`;
}
