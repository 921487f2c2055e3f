/** Settings from values given by a front end: defaults filled in, every value checked, every problem named. */
import { AgentError, ErrorReason } from '../errors.js';
import { checkValue, SettingError, type SettingDef } from './settingKinds.js';
import { SETTINGS, type SettingName, type Settings } from './settings.js';

/** A value as the user gave it, and (for text a front end converted) how they typed it. */
export type GivenValue = { value: unknown; typed?: string };

/** The settings' names in the editor: `entropo.` and the key. */
export function editorKey(name: SettingName): string {
  return (SETTINGS[name] as SettingDef).key ?? name;
}

/** The setting's flag on the command line, without the dashes, as it is typed (`no-local` for a default-true switch). */
export function cliFlag(name: SettingName): string {
  const def = SETTINGS[name] as SettingDef;
  const flag = def.flag ?? name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  return def.kind === 'boolean' && def.default === true ? `no-${flag}` : flag;
}

/** Both names of a setting, for messages the core writes for either front end: `--judge-model or entropo.verifier.judgeModel`. */
export function settingNames(name: SettingName): string {
  const def = SETTINGS[name] as SettingDef;
  const names = [def.only?.frontEnd !== 'vscode' ? `--${cliFlag(name)}` : '', def.only?.frontEnd !== 'cli' ? `entropo.${editorKey(name)}` : ''];
  return names.filter(Boolean).join(' or ');
}

/**
 * Every setting: the given value where there is one, else the default; throws one AgentError (Config) listing
 * every value that is wrong, each named by `nameOf` (`--samples`, `entropo.samples`).
 */
export function resolveSettings(given: Partial<Record<SettingName, GivenValue>>, nameOf: (name: SettingName) => string): Settings {
  const values: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, def] of Object.entries(SETTINGS) as [SettingName, SettingDef][]) {
    const entry = given[name];
    try {
      values[name] = checkValue(def, entry?.value, nameOf(name), entry?.typed);
    } catch (error) {
      if (!(error instanceof SettingError)) throw error;
      problems.push(error.message);
      values[name] = def.default;
    }
  }
  if (problems.length > 0) throw new AgentError(ErrorReason.Config, problems.join('\n'));
  return values as Settings;
}

/** Every setting at its default. */
export function defaultSettings(): Settings {
  return resolveSettings({}, (name) => name);
}
