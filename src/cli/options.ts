import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './usageError.js';

/** One documented flag of a command. */
export interface Flag {
  type: 'string' | 'boolean';
  multiple?: boolean;
  short?: string;
  value?: string;
  help: string;
}

/**
 * Parses argv against documented flags; `--help` prints them and returns undefined. With `positionals`, the
 * arguments that are no flag come back as `_` (a list); without, any is a usage error.
 */
export function parseFlags(argv: string[], usage: string, flags: Record<string, Flag>, positionals = false): Record<string, unknown> | undefined {
  const options: ParseArgsConfig['options'] = { help: { type: 'boolean', short: 'h' } };
  for (const [name, flag] of Object.entries(flags)) {
    options[name] = { type: flag.type, multiple: flag.multiple === true, ...(flag.short ? { short: flag.short } : {}) };
  }
  let values: Record<string, unknown>;
  try {
    const parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: positionals });
    values = positionals ? { ...parsed.values, _: parsed.positionals } : parsed.values;
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\nRun with --help for the options.`);
  }
  if (values.help) {
    process.stdout.write(`${usage}\n\nOptions:\n${describe(flags)}\n`);
    return undefined;
  }
  return values;
}

function describe(flags: Record<string, Flag>): string {
  return Object.entries(flags).map(([name, flag]) => {
    const left = `  --${name}${flag.type === 'string' ? ` ${flag.value ?? 'VALUE'}` : ''}`;
    return `${left.padEnd(28)} ${flag.help}`;
  }).join('\n');
}

/** Reads a number flag within bounds, or its default. */
export function numberFlag(value: unknown, name: string, fallback: number | undefined, min: number, max = Infinity): number | undefined {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be a number from ${min}${max === Infinity ? '' : ` to ${max}`}, got "${String(value)}".`);
  }
  return n;
}
