import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { looksRandom, Redactor } from '../../../src/core/store/redact.js';
import { dotEnvSecrets, environmentSecrets, isSecretName, parseDotEnv } from '../../../src/core/store/secretSources.js';
import { tempDir } from '../../helpers/tempRepo.js';

const plain = new Redactor();

describe('Redactor patterns', () => {
  it.each([
    ['OpenAI key', 'export OPENAI_API_KEY is sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8t', 'sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8t', 'api-key'],
    ['GitHub token', 'remote: ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8 rejected', 'ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8', 'github-token'],
    ['fine-grained PAT', 'token github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz', 'github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz', 'github-token'],
    ['Slack token', 'SLACK=xoxb-1234567890-abcdefghij', 'xoxb-1234567890-abcdefghij', 'slack-token'],
    ['AWS key id', 'aws_access_key_id = AKIAIOSFODNN7EXAMPLE', 'AKIAIOSFODNN7EXAMPLE', 'aws-key'],
    ['JWT', 'cookie eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U;', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U', 'jwt'],
    ['Bearer', 'curl -H "Authorization: Bearer abc123def456ghi789jkl"', 'abc123def456ghi789jkl', 'bearer'],
    ['URL credentials', 'git clone https://alice:s3cretPassw0rd@github.com/acme/x.git', 's3cretPassw0rd', 'url-credentials'],
    ['password assignment', 'DB_PASSWORD=hunter2secret ./run.sh', 'hunter2secret', 'password'],
    ['quoted password', 'settings = {"api_key": "not-so-hidden"}', 'not-so-hidden', 'password'],
  ])('redacts a %s', (_name, text, secret, kind) => {
    const out = plain.redactString(text);
    expect(out).not.toContain(secret);
    expect(out).toContain(`[REDACTED:${kind}]`);
  });

  it('redacts a private key block whole, keeping the text around it', () => {
    const key = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\nAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----';
    expect(plain.redactString(`before\n${key}\nafter`)).toBe('before\n[REDACTED:private-key]\nafter');
  });

  it('leaves code, hashes and ordinary identifiers alone', () => {
    const text = [
      'commit 3f2a9c1d5e7b4a6c8d0e2f4a6b8c0d2e4f6a8b0c',
      'sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
      'id 550e8400-e29b-41d4-a716-446655440000',
      'login(user, password=password)', 'token = self.token', 'max_tokens=4096', 'tokenizer=AutoTokenizer',
      'password = get_password()', 'task-runner-configuration-2024', 'win1251BulgarianCharToOrderMap',
      'GB2312_TYPICAL_DISTRIBUTION_RATIO', 'RemovedInSphinx50Warning', 'src/core/store/preferenceStore.ts',
      '"integrity": "sha512-Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6QUJD"',
    ].join('\n');
    expect(plain.redactString(text)).toBe(text);
  });

  it('redacts random-looking tokens but keeps a diff line marker in front of them', () => {
    const token = 'Zq8vR2xLp0Tn5WcY7bKd3MfH';
    expect(looksRandom(token)).toBe(true);
    expect(plain.redactString(`+API = ${token}\n+${token}`)).toBe('+API = [REDACTED:high-entropy]\n+[REDACTED:high-entropy]');
  });

  it('redacts known values, longest first and in their JSON-escaped spelling, in keys and values', () => {
    const r = new Redactor([{ value: 'pa"ss\\word1', kind: 'dotenv' }, { value: 'abc12345', kind: 'env' }, { value: 'abc12345xyz', kind: 'api-key' }, { value: 'short', kind: 'env' }]);
    const value = { [`k abc12345`]: ['abc12345xyz and abc12345', '{"p":"pa\\"ss\\\\word1"}', 'pa"ss\\word1'], n: 3, ok: true, nil: null, short: 'short' };
    expect(r.redactDeep(value)).toEqual({
      'k [REDACTED:env]': ['[REDACTED:api-key] and [REDACTED:env]', '{"p":"[REDACTED:dotenv]"}', '[REDACTED:dotenv]'],
      n: 3, ok: true, nil: null, short: 'short',
    });
  });
});

describe('secret sources', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => cleanups.splice(0).forEach((c) => c()));

  it('takes secret-named environment variables, but not plain words or the working directory', () => {
    expect(['OPENAI_API_KEY', 'githubToken', 'DB_PASS', 'MY_SERVICE_API_KEY', 'AWS_SECRET_ACCESS_KEY'].every(isSecretName)).toBe(true);
    expect(['PWD', 'OLDPWD', 'KEYBOARD_LAYOUT', 'PATH', 'HOME', 'max_tokens'].some(isSecretName)).toBe(false);
    const env = { MY_SERVICE_API_KEY: 'sk-live-0123456789abcdef', AUTH_MODE: 'password', PATH: '/usr/bin', SESSION_ID: '42', HOME: '/root' };
    expect(environmentSecrets(env)).toEqual([{ value: 'sk-live-0123456789abcdef', kind: 'env' }]);
  });

  it('reads .env files of the repository root: secret keys always, other keys unless the value is a plain word', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    writeFileSync(path.join(dir, '.env'), '# comment\nDATABASE_PASSWORD=hunter2secret\nNODE_ENV=production\nPORT=8080\nexport API_URL="https://api.internal.example/v2"\n');
    writeFileSync(path.join(dir, '.env.local'), "SESSION_SECRET='s p a c e d'\nEMPTY=\n");
    mkdirSync(path.join(dir, 'sub'));
    writeFileSync(path.join(dir, 'sub', '.env'), 'NESTED_TOKEN=not-read-from-subfolders\n');
    const values = (await dotEnvSecrets(dir)).map((s) => s.value).sort();
    expect(values).toEqual(['https://api.internal.example/v2', 'hunter2secret', 's p a c e d']);
    expect(parseDotEnv('A=1 # note\nB="x # y"\n bad line\n')).toEqual([['A', '1'], ['B', 'x # y']]);
    expect(await dotEnvSecrets(path.join(dir, 'missing'))).toEqual([]);
  });
});
