import * as vscode from 'vscode';
import type { SettingDef } from '../core/settings/settingKinds.js';
import { editorKey, resolveSettings, type GivenValue } from '../core/settings/resolveSettings.js';
import { SETTINGS, type SettingName, type Settings } from '../core/settings/settings.js';

/**
 * Reads `entropo.*` fresh (so changes take effect without a reload) and checks every value against its
 * definition in src/core/settings; a wrong value is an error naming the setting and what it must be.
 */
export function readSettings(): Settings {
  const config = vscode.workspace.getConfiguration('entropo');
  const given: Partial<Record<SettingName, GivenValue>> = {};
  for (const [name, def] of Object.entries(SETTINGS) as [SettingName, SettingDef][]) {
    if (def.only?.frontEnd !== 'cli') given[name] = { value: config.get(editorKey(name)) };
  }
  return resolveSettings(given, (name) => `entropo.${editorKey(name)}`);
}

/** One setting, checked alone: a wrong value elsewhere (say, the number of samples) does not stop this read. */
export function readSetting<K extends SettingName>(name: K): Settings[K] {
  const value = vscode.workspace.getConfiguration('entropo').get(editorKey(name));
  return resolveSettings({ [name]: { value } }, (n) => `entropo.${editorKey(n)}`)[name];
}
