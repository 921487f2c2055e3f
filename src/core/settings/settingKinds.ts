/**
 * The kinds of setting a definition can hold, how each is validated, and how each is described to people.
 * Every front end reads values its own way (CLI flags, the editor's settings) and hands them to
 * `checkValue`, so a wrong value gets the same sentence wherever it was given; only the setting's name differs
 * (`--samples` or `entropo.samples`).
 */
import { existsSync } from 'node:fs';

/** Which front ends offer a setting. */
export type FrontEnd = 'cli' | 'vscode';

/** What every kind of setting has. */
interface BaseDef<V> {
  default: V;
  /** One line for people: the CLI's --help and the Settings editor. */
  doc: string;
  /** More, in Markdown, for the Settings editor only. */
  more?: string;
  /** Its key under `entropo.` in the editor's settings; default: the setting's name. */
  key?: string;
  /** Its CLI flag without the dashes; default: the name in kebab case. A boolean that defaults to true is `--no-<flag>`. */
  flag?: string;
  /** The flag's value placeholder in --help, e.g. SECONDS. */
  placeholder?: string;
  short?: string;
  /** Giving this flag on the command line also turns on the named boolean setting (a judge URL, the judge). */
  cliEnables?: string;
  /** A machine setting: a repository's own `.vscode/settings.json` cannot set it. */
  machine?: boolean;
  /** Offered by one front end only, and why the other cannot have it. */
  only?: { frontEnd: FrontEnd; why: string };
  /** Never read at run time; only its type for the compiler. */
  readonly value?: V;
}

/** A whole number within bounds; `optional` allows no value (the editor's `null`). */
export interface IntegerDef<V = number> extends BaseDef<V> { kind: 'integer'; min?: number; max?: number; optional?: boolean }
/** A number within bounds. */
export interface NumberDef extends BaseDef<number> { kind: 'number'; min?: number; max?: number; exclusiveMin?: boolean }
/** On or off. */
export interface BooleanDef extends BaseDef<boolean> { kind: 'boolean' }
/**
 * Free text; empty usually means "the default", which `doc` says. A `path` is resolved against the current
 * folder by the CLI; one that `mustExist` is checked to exist when it is not empty. A `url` that is not empty
 * must be an http(s) URL.
 */
export interface StringDef extends BaseDef<string> { kind: 'string'; path?: 'file' | 'folder'; mustExist?: boolean; url?: boolean }
/** One of a few words, each with a one-line description. */
export interface ChoiceDef<V extends string = string> extends BaseDef<V> { kind: 'choice'; values: readonly V[]; valueDocs?: readonly string[] }
/** A list of text items; a repeatable flag on the CLI. */
export interface ListDef extends BaseDef<string[]> { kind: 'list' }
/** A JSON object, passed on as it is. */
export interface ObjectDef extends BaseDef<Record<string, unknown>> { kind: 'object' }

/** Any setting's definition. */
export type SettingDef = IntegerDef<number> | IntegerDef<number | undefined> | NumberDef | BooleanDef | StringDef | ChoiceDef | ListDef | ObjectDef;

/** The value type a definition describes. */
export type ValueOf<D> = D extends { readonly value?: infer V } ? V : never;

/** A whole number. */
export function integer(def: Omit<IntegerDef, 'kind' | 'optional'>): IntegerDef {
  return { kind: 'integer', ...def };
}

/** A whole number that may be left unset. */
export function optionalInteger(def: Omit<IntegerDef<number | undefined>, 'kind' | 'optional' | 'default'>): IntegerDef<number | undefined> {
  return { kind: 'integer', optional: true, default: undefined, ...def };
}

/** A number. */
export function number(def: Omit<NumberDef, 'kind'>): NumberDef {
  return { kind: 'number', ...def };
}

/** On or off. */
export function boolean(def: Omit<BooleanDef, 'kind'>): BooleanDef {
  return { kind: 'boolean', ...def };
}

/** Free text. */
export function text(def: Omit<StringDef, 'kind'>): StringDef {
  return { kind: 'string', ...def };
}

/** One of `values`. */
export function choice<const V extends string>(values: readonly V[], def: Omit<ChoiceDef<V>, 'kind' | 'values'>): ChoiceDef<V> {
  return { kind: 'choice', values, ...def };
}

/** A list of text items. */
export function list(def: Omit<ListDef, 'kind'>): ListDef {
  return { kind: 'list', ...def };
}

/** A JSON object. */
export function object(def: Omit<ObjectDef, 'kind'>): ObjectDef {
  return { kind: 'object', ...def };
}

/** What a valid value looks like, e.g. "a number from 1 to 16", for errors and --help. */
export function describeRange(def: SettingDef): string {
  switch (def.kind) {
    case 'integer':
    case 'number': {
      const from = def.kind === 'number' && def.exclusiveMin ? `above ${def.min}` : `from ${def.min}`;
      if (def.min !== undefined && def.max !== undefined) return def.kind === 'number' && def.exclusiveMin ? `a number ${from} up to ${def.max}` : `a number ${from} to ${def.max}`;
      if (def.min !== undefined) return def.kind === 'number' && def.exclusiveMin ? `a number ${from}` : `a number of at least ${def.min}`;
      return 'a number';
    }
    case 'boolean': return 'true or false';
    case 'string': return 'text';
    case 'choice': return `one of ${def.values.join(', ')}`;
    case 'list': return 'a list of text';
    case 'object': return 'a JSON object';
  }
}

/**
 * The value, checked against its definition; throws a `SettingError` whose message names the setting as
 * `name`, says what it must be and quotes what was given (`typed`, where the front end converted text).
 * `undefined` gives the default.
 */
export function checkValue(def: SettingDef, raw: unknown, name: string, typed = show(raw)): unknown {
  if (raw === undefined || (raw === null && def.kind === 'integer' && def.optional)) return def.default;
  const wrong = (what = describeRange(def)) => new SettingError(`${name} must be ${what}, got ${typed}.`);
  switch (def.kind) {
    case 'integer':
    case 'number': {
      if (typeof raw !== 'number' || !Number.isFinite(raw)) throw wrong();
      const low = def.min !== undefined && (def.kind === 'number' && def.exclusiveMin ? raw <= def.min : raw < def.min);
      if (low || (def.max !== undefined && raw > def.max)) throw wrong();
      if (def.kind === 'integer' && !Number.isInteger(raw)) throw wrong(describeRange(def).replace(/^a number/, 'a whole number'));
      return raw;
    }
    case 'boolean':
      if (typeof raw !== 'boolean') throw wrong();
      return raw;
    case 'string':
      if (typeof raw !== 'string') throw wrong();
      if (def.mustExist && raw.trim() !== '' && !existsSync(raw)) throw new SettingError(`${name} ${raw} does not exist.`);
      if (def.url && raw.trim() !== '' && !isHttpUrl(raw)) throw wrong('an http(s) URL such as http://127.0.0.1:8000/v1');
      return raw;
    case 'choice':
      if (typeof raw !== 'string' || !def.values.includes(raw)) throw wrong();
      return raw;
    case 'list':
      if (!Array.isArray(raw) || raw.some((item) => typeof item !== 'string')) throw wrong();
      return [...raw];
    case 'object':
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw wrong();
      return { ...raw };
  }
}

/** Whether `text` is an http(s) URL: what a `url` setting and a model client's base URL must be. */
export function isHttpUrl(text: string): boolean {
  return URL.canParse(text) && /^https?:$/.test(new URL(text).protocol);
}

/** A setting given a value it cannot take; the message names the setting and what it must be. */
export class SettingError extends Error {
  override readonly name = 'SettingError';
}

// Numbers as they were typed, text in quotes: `got "40"`, `got 2.5` (from the editor), `got "abc"`.
function show(raw: unknown): string {
  if (typeof raw === 'string') return JSON.stringify(raw);
  if (typeof raw === 'number' && Number.isNaN(raw)) return 'something that is not a number';
  return JSON.stringify(raw) ?? String(raw);
}
