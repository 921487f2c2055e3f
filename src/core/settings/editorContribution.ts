/**
 * The extension's `contributes.configuration`, made from the settings' definitions. The build writes it into
 * package.json (esbuild.mjs), and a test checks that the committed package.json holds exactly this.
 */
import type { SettingDef } from './settingKinds.js';
import { SETTINGS } from './settings.js';

/** The prefix of every setting's key in the editor. */
export const SECTION = 'entropo';

/** One property of `contributes.configuration.properties`, as VS Code reads it. */
export type EditorProperty = Record<string, unknown>;

/** `contributes.configuration` for package.json: every setting the extension offers, in definition order. */
export function editorContribution(): { title: string; properties: Record<string, EditorProperty> } {
  const properties: Record<string, EditorProperty> = {};
  let order = 0;
  for (const [name, def] of Object.entries(SETTINGS) as [string, SettingDef][]) {
    if (def.only?.frontEnd === 'cli') continue;
    properties[`${SECTION}.${def.key ?? name}`] = { ...typeOf(def), ...docOf(def), order: order++, ...(def.machine ? { scope: 'machine' } : {}) };
  }
  return { title: 'EntroPO Agent', properties };
}

function typeOf(def: SettingDef): EditorProperty {
  switch (def.kind) {
    case 'integer':
    case 'number': {
      const bounds: EditorProperty = {};
      if (def.min !== undefined) bounds[def.kind === 'number' && def.exclusiveMin ? 'exclusiveMinimum' : 'minimum'] = def.min;
      if (def.max !== undefined) bounds.maximum = def.max;
      const type = def.kind === 'integer' && def.optional ? ['integer', 'null'] : def.kind;
      return { type, default: def.default ?? null, ...bounds };
    }
    case 'choice':
      return { type: 'string', enum: [...def.values], ...(def.valueDocs ? { enumDescriptions: [...def.valueDocs] } : {}), default: def.default };
    case 'list':
      return { type: 'array', items: { type: 'string' }, default: def.default };
    case 'string':
      // The Settings editor marks a value that is no URL as the core would refuse it.
      return { type: 'string', default: def.default, ...(def.url ? { pattern: '^(https?://.+)?$', patternErrorMessage: 'An http(s) URL such as http://127.0.0.1:8000/v1, or empty.' } : {}) };
    default:
      return { type: def.kind, default: def.default };
  }
}

function docOf(def: SettingDef): EditorProperty {
  return def.more ? { markdownDescription: `${def.doc} ${def.more}` } : { description: def.doc };
}
