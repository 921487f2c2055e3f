/** Collects exact secret values to redact: secret-named environment variables and the repository's .env files. */
import { readdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { KnownSecret } from './redact.js';

// A name segment (split on `_`, `-` and camelCase) that marks a variable as secret. PWD and OLDPWD are the
// working directory, not a password, so `PWD` is not in the list.
const SECRET_SEGMENTS = new Set(['KEY', 'APIKEY', 'TOKEN', 'SECRET', 'PASSWORD', 'PASSWD', 'PASS', 'PASSPHRASE',
  'CREDENTIAL', 'CREDENTIALS', 'AUTH', 'PAT', 'COOKIE', 'SESSION', 'PRIVATE', 'SIGNATURE', 'DSN']);

/** True when an environment variable's name says it holds a secret: `OPENAI_API_KEY`, `githubToken`, `DB_PASS`. */
export function isSecretName(name: string): boolean {
  const segments = name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase().split(/[_\-.]+/);
  return segments.some((s) => SECRET_SEGMENTS.has(s));
}

// Values too ordinary to redact everywhere they appear: redacting `production` or `3000` would damage
// every trajectory that mentions them, and they are configuration, not credentials.
const PLAIN_VALUE = /^(?:[0-9.]+|[A-Za-z]+)$/;

/**
 * Values of secret-named variables of `env`, except plain words and numbers: the environment is the user's
 * whole session (`AUTH_MODE=password`, `XDG_SESSION_ID=3`), and blanking such words everywhere would damage
 * the trajectories while protecting nothing.
 */
export function environmentSecrets(env: Record<string, string | undefined>): KnownSecret[] {
  return Object.entries(env)
    .filter((entry): entry is [string, string] => entry[1] !== undefined && isSecretName(entry[0]) && !PLAIN_VALUE.test(entry[1]))
    .map(([, value]) => ({ value, kind: 'env' }));
}

/**
 * Values of `.env`, `.env.local`, `.env.production`, ... in the repository root. A value is a secret when its
 * key looks secret (whatever the value), or when it is not a plain word or number (URLs, connection strings,
 * random strings); plain values of other keys, like `development` or `8080`, are left alone.
 */
export async function dotEnvSecrets(repoRoot: string): Promise<KnownSecret[]> {
  let names: string[];
  try {
    names = (await readdir(repoRoot)).filter((n) => n === '.env' || n.startsWith('.env.'));
  } catch {
    return [];
  }
  const secrets: KnownSecret[] = [];
  for (const name of names) {
    let text: string;
    try {
      text = await readFile(path.join(repoRoot, name), 'utf8');
    } catch {
      continue;
    }
    for (const [key, value] of parseDotEnv(text)) {
      if (isSecretName(key) || !PLAIN_VALUE.test(value)) secrets.push({ value, kind: 'dotenv' });
    }
  }
  return secrets;
}

/** Key/value pairs of a .env file: `KEY=value`, `export KEY="value"`, comments and blank lines ignored. */
export function parseDotEnv(text: string): [string, string][] {
  const pairs: [string, string][] = [];
  for (const raw of text.split(/\r?\n/)) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*?)\s*$/.exec(raw);
    if (!match) continue;
    let value = match[2];
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.endsWith(quote) && value.length >= 2) {
      value = value.slice(1, -1);
    } else {
      value = value.replace(/\s+#.*$/, '');
    }
    if (value !== '') pairs.push([match[1], value]);
  }
  return pairs;
}
