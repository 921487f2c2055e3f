/**
 * One settings definition for both front ends: every setting is in the CLI's --help and in package.json with
 * the same default and range, a wrong value reads the same from either, and package.json is what the
 * definitions make of it.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { settingsFromFlags } from '../../../src/cli/settingFlags.js';
import { UsageError } from '../../../src/cli/usageError.js';
import { editorContribution } from '../../../src/core/settings/editorContribution.js';
import { cliFlag, defaultSettings, editorKey, resolveSettings, settingNames } from '../../../src/core/settings/resolveSettings.js';
import type { SettingDef } from '../../../src/core/settings/settingKinds.js';
import { SETTINGS, type SettingName } from '../../../src/core/settings/settings.js';
import { runCli } from '../../helpers/cli.js';
import { PROJECT_ROOT } from '../../helpers/tempRepo.js';

const manifest = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
  contributes: { configuration: { properties: Record<string, Record<string, unknown>> } };
};
const entries = Object.entries(SETTINGS) as [SettingName, SettingDef][];

// The help lines of every command that takes settings, by flag: "  --samples N   Rollouts per issue (1 to 16; default 4)."
async function helpLines(): Promise<Map<string, string>> {
  const lines = new Map<string, string>();
  for (const command of ['run', 'rank', 'train']) {
    const help = await runCli([command, '--help']);
    expect(help.code).toBe(0);
    for (const line of help.stdout.split('\n')) {
      const flag = /^\s+--([\w-]+)/.exec(line)?.[1];
      // `rank --concurrency` is its own (issues at once); the setting's line is run's, which comes first.
      if (flag && !lines.has(flag)) lines.set(flag, line);
    }
  }
  return lines;
}

describe('the settings definition', () => {
  it('gives every setting the CLI has a --help line with its default and range', async () => {
    const lines = await helpLines();
    const cli = entries.filter(([, def]) => def.only?.frontEnd !== 'vscode');
    expect(cli.length).toBeGreaterThan(40);
    for (const [name, def] of cli) {
      const line = lines.get(cliFlag(name));
      expect(line, `--${cliFlag(name)} (${name}) is in no command's --help`).toBeDefined();
      if (def.kind === 'integer' || def.kind === 'number') {
        const above = def.kind === 'number' && def.exclusiveMin;
        const range = def.max !== undefined ? `${above ? 'above ' : ''}${def.min} to ${def.max}` : above ? `above ${def.min}` : `at least ${def.min}`;
        expect(line).toContain(`(${range}`);
        if (def.default !== undefined) expect(line).toMatch(new RegExp(`; default ${String(def.default).replace('.', '\\.')}\\)\\.$`));
      } else if (def.kind === 'choice') {
        expect(line).toContain(`--${cliFlag(name)} ${def.values.join('|')} `);
        expect(line).toMatch(new RegExp(`\\(default ${def.default}\\)\\.$`));
      } else if (def.kind === 'boolean') {
        expect(line).toContain(def.default ? 'on by default, this flag turns it off' : 'off unless this flag is given');
      } else if (def.kind === 'string' && def.default !== '') {
        expect(line).toContain(`(default ${def.default})`);
      }
    }
  });

  it('gives every setting the extension has a package.json entry with the same default and range', () => {
    const properties = manifest.contributes.configuration.properties;
    const editor = entries.filter(([, def]) => def.only?.frontEnd !== 'cli');
    expect(Object.keys(properties).sort()).toEqual(editor.map(([name]) => `entropo.${editorKey(name)}`).sort());
    for (const [name, def] of editor) {
      const property = properties[`entropo.${editorKey(name)}`];
      expect(property.default, name).toEqual(def.default ?? null);
      if (def.kind === 'integer' || def.kind === 'number') {
        const exclusive = def.kind === 'number' && def.exclusiveMin;
        expect(property[exclusive ? 'exclusiveMinimum' : 'minimum'], name).toBe(def.min);
        expect(property.maximum, name).toBe(def.max);
      }
      if (def.kind === 'choice') expect(property.enum, name).toEqual(def.values);
      expect(property.scope, name).toBe(def.machine ? 'machine' : undefined);
    }
  });

  it('is what package.json holds (npm run build writes it)', () => {
    expect(manifest.contributes.configuration, 'package.json is stale: run npm run build').toEqual(editorContribution());
  });

  it('offers every setting in both front ends, or says why not', () => {
    for (const [name, def] of entries) {
      if (def.only) expect(def.only.why.length, name).toBeGreaterThan(20);
    }
    expect(entries.filter(([, def]) => def.only).map(([name]) => name)).toEqual(['trainExtraArgs']);
  });

  it('rejects a wrong value with one wording, naming the setting as each front end does', () => {
    const fromEditor = () => resolveSettings({ samples: { value: 40 } }, (name) => `entropo.${editorKey(name)}`);
    expect(fromEditor).toThrow('entropo.samples must be a number from 1 to 16, got 40.');
    expect(() => settingsFromFlags({ samples: '40' }, ['samples'])).toThrow(new UsageError('--samples must be a number from 1 to 16, got "40".'));
    expect(() => settingsFromFlags({ samples: '2.5' }, ['samples'])).toThrow('--samples must be a whole number from 1 to 16, got "2.5".');
    expect(() => settingsFromFlags({ 'top-p': '0' }, ['topP'])).toThrow('--top-p must be a number above 0 up to 1, got "0".');
    expect(() => settingsFromFlags({ format: 'xml' }, ['actionFormat'])).toThrow('--format must be one of tools, text, got "xml".');
    expect(() => settingsFromFlags({ extra: '[1]' }, ['extraSamplingParameters'])).toThrow('--extra must be a JSON object, got "[1]".');
    expect(() => settingsFromFlags({ 'judge-url': 'ftp://judge/v1' }, ['judgeEndpoint'])).toThrow('--judge-url must be an http(s) URL such as http://127.0.0.1:8000/v1, got "ftp://judge/v1".');
    expect(() => resolveSettings({ endpoint: { value: 'localhost:8000' } }, (name) => `entropo.${editorKey(name)}`)).toThrow('entropo.endpoint must be an http(s) URL');
    expect(resolveSettings({ judgeEndpoint: { value: '' } }, (name) => name).judgeEndpoint).toBe('');
    expect(() => resolveSettings({ seed: { value: 'x' }, samples: { value: 0 } }, (name) => name)).toThrow('samples must be a number from 1 to 16, got 0.\nseed must be a number of at least 0, got "x".');
  });

  it('turns flags into settings: switches, lists, JSON, paths and a judge URL that turns the judge on', () => {
    const s = settingsFromFlags({ 'no-local': true, 'allow-host': ['a.test', 'b.test:443'], extra: '{"top_k":20}', store: 'rel/store', 'judge-url': 'http://j/v1' },
      ['localVerifier', 'allowedHosts', 'extraSamplingParameters', 'storeDirectory', 'judgeEndpoint', 'judge']);
    expect(s).toMatchObject({ localVerifier: false, allowedHosts: ['a.test', 'b.test:443'], extraSamplingParameters: { top_k: 20 },
      storeDirectory: path.resolve('rel/store'), judgeEndpoint: 'http://j/v1', judge: true });
    expect(settingsFromFlags({}, [])).toEqual(defaultSettings());
  });

  it('names a setting both ways in messages of the core', () => {
    expect(settingNames('allowUnsandboxed')).toBe('--allow-unsandboxed or entropo.sandbox.allowUnsandboxed');
    expect(settingNames('trainExtraArgs')).toBe('entropo.train.extraArgs');
  });
});
