/**
 * Editable installs of the user's own project (`pip install -e .`, `uv sync`, `setup.py develop`) in the
 * virtual environments linked into verification's trees and the rollouts' workspaces (dependencyLinks.ts).
 * Such an install names folders of the user's checkout (`/home/u/proj/src`), so a tree's tests would import
 * the user's code instead of the candidate's; the same folders of the tree go first on PYTHONPATH instead.
 */
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, sep } from 'node:path';
import { scrubEnv } from '../node/scrubEnv.js';
import { shellQuote } from '../process/shellQuote.js';
import type { ProcessRunner, RunOptions } from '../types.js';

// A finder module of an editable install is a few kilobytes; anything far larger is not one.
const MAX_MODULE_BYTES = 1024 * 1024;

/**
 * The folders, relative to `userRoot` ('' for the root itself), that the editable installs in the virtual
 * environments `venvs` (folders of `userRoot`) put on Python's import path: plain paths in their `.pth`
 * files, and the package folders their finder modules map (setuptools' `__editable__` finders, `editables`).
 * Folders outside `userRoot` or inside the environments themselves are left out: they are the same for
 * every tree. Unreadable files are skipped.
 */
export async function editableImportPaths(userRoot: string, venvs: readonly string[]): Promise<string[]> {
  const roots = [...new Set([userRoot, await realpath(userRoot).catch(() => userRoot)])];
  const found: string[] = [];
  for (const venv of venvs) {
    for (const site of await sitePackages(join(userRoot, venv))) {
      for (const path of await importedPaths(site)) {
        const rel = await insideRoot(path, roots);
        if (rel !== undefined && !venvs.some((v) => rel === v || rel.startsWith(`${v}${sep}`)) && !found.includes(rel)) found.push(rel);
      }
    }
  }
  return found;
}

/**
 * A shell line that puts `importPaths` (relative to the folder the command starts in) first on PYTHONPATH,
 * keeping what was there; empty when there are none. `$PWD` makes them absolute as the command sees its
 * tree, which inside an overlay's namespace or a sandbox is not the path this process sees.
 */
export function pythonPathExport(importPaths: readonly string[]): string {
  if (importPaths.length === 0) return '';
  const folders = importPaths.map((rel) => (rel === '' ? '"$PWD"' : `"$PWD"/${shellQuote(rel)}`)).join(':');
  return `export PYTHONPATH=${folders}\${PYTHONPATH:+:"$PYTHONPATH"}; `;
}

async function sitePackages(venv: string): Promise<string[]> {
  const lib = join(venv, 'lib');
  const versions = await readdir(lib).catch(() => [] as string[]);
  return versions.filter((name) => /^(python|pypy)\d/.test(name)).map((name) => join(lib, name, 'site-packages'));
}

/** What the `.pth` files of `site` add to the import path, in the order Python reads them (by file name). */
async function importedPaths(site: string): Promise<string[]> {
  const files = (await readdir(site).catch(() => [] as string[])).filter((name) => name.endsWith('.pth')).sort();
  const paths: string[] = [];
  for (const file of files) {
    const text = await readFile(join(site, file), 'utf8').catch(() => '');
    for (const raw of text.split('\n')) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      if (/^import\s/.test(line)) paths.push(...(await mappedByModules(site, line)));
      else paths.push(isAbsolute(line) ? line : join(site, line));
    }
  }
  return paths;
}

/**
 * The folders that make the packages mapped by the modules an `import` line of a `.pth` file runs importable:
 * each absolute path quoted in such a module names a package folder or a module file, whose parent folder
 * is the one to import it from.
 */
async function mappedByModules(site: string, line: string): Promise<string[]> {
  const modules = [...line.matchAll(/\bimport\s+([\w.]+(?:\s*,\s*[\w.]+)*)/g)].flatMap((m) => m[1].split(',').map((name) => name.trim()));
  const paths: string[] = [];
  for (const name of modules) {
    const file = join(site, `${name.split('.').join(sep)}.py`);
    const size = (await stat(file).catch(() => undefined))?.size;
    if (size === undefined || size > MAX_MODULE_BYTES) continue;
    const text = await readFile(file, 'utf8').catch(() => '');
    for (const [, , quoted] of text.matchAll(/(['"])(\/[^'"\n]+)\1/g)) {
      const target = quoted.replace(/\\\\/g, '\\');
      paths.push(basename(target) === '__init__.py' ? dirname(dirname(target)) : dirname(target));
    }
  }
  return paths;
}

/** `path` relative to the first of `roots` it lies in, or undefined when it lies in none. */
async function insideRoot(path: string, roots: readonly string[]): Promise<string | undefined> {
  for (const candidate of [path, await realpath(path).catch(() => path)]) {
    for (const root of roots) {
      const rel = relative(root, candidate);
      if (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel)) return rel;
    }
  }
  return undefined;
}

/**
 * `runner` with `folders` (absolute, as its commands see them) first on every command's PYTHONPATH: the
 * agent's commands in a workspace import the workspace's code as the verifier's test runs do.
 */
export function withImportPaths(runner: ProcessRunner, folders: readonly string[]): ProcessRunner {
  if (folders.length === 0) return runner;
  const env = (options: RunOptions): Record<string, string> => {
    // As the runner would have it without an environment given: scrubbed of secrets.
    const base = options.env ?? scrubEnv(process.env);
    return { ...base, PYTHONPATH: [...folders, ...(base.PYTHONPATH ? [base.PYTHONPATH] : [])].join(':') };
  };
  return {
    shell: (command, options) => runner.shell(command, { ...options, env: env(options) }),
    exec: (file, args, options) => runner.exec(file, args, { ...options, env: env(options) }),
  };
}
