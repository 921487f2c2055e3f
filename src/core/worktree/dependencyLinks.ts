/**
 * The user's installed dependencies in a workspace or a verification tree: git ignores them, so a checkout
 * of the snapshot lacks them, and tests (the agent's and the verifier's alike) need them. They are linked
 * in, not copied, yet the code they make importable is the tree's own: the workspace packages of a
 * monorepo's node_modules point at the tree's copy, and the folders an editable install names go first on
 * PYTHONPATH (editableInstalls.ts).
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, realpath, symlink } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { editableImportPaths } from './editableInstalls.js';

/** Folders with installed dependencies that git ignores and tests need. */
export const DEFAULT_DEPENDENCY_DIRS: readonly string[] = ['node_modules', '.venv', 'venv'];

/** What of the user's checkout a tree gets linked in. */
export interface InstalledDependencies {
  /** The user's checkout. */
  root: string;
  /** The dependency folders it has, of those asked for. */
  names: string[];
  /** Folders (relative to a tree) its editable installs name, for the front of PYTHONPATH. */
  importPaths: string[];
  /** The workspace packages its node_modules links to folders of the checkout: [entry, folder]. */
  workspaces: [string, string][];
  /** Their own node_modules (pnpm keeps each package's dependencies there), relative to the checkout. */
  packageModules: string[];
}

/** The dependency folders `root` has among `names` (DEFAULT_DEPENDENCY_DIRS by default), read once for every tree. */
export async function installedDependencies(root: string, names: readonly string[] = DEFAULT_DEPENDENCY_DIRS): Promise<InstalledDependencies> {
  const present = names.filter((name) => existsSync(join(root, name)));
  const realRoot = await realpath(root).catch(() => root);
  const workspaces = present.includes('node_modules') ? await workspaceLinks(realRoot, join(root, 'node_modules')) : [];
  const packageModules = [...new Set(workspaces.map(([, folder]) => `${folder}/node_modules`))].filter((rel) => existsSync(join(root, rel)));
  return { root, names: present, importPaths: await editableImportPaths(root, present), workspaces, packageModules };
}

/** Every folder of the user's that trees link to, as absolute paths: what a sandbox must let them read. */
export function linkedFolders(deps: InstalledDependencies): string[] {
  return [...deps.names, ...deps.packageModules].map((rel) => join(deps.root, rel));
}

/**
 * Links each of `deps.names` into `tree` where the tree has nothing of that name (a tracked folder stays
 * as it is), and each workspace package's own node_modules into the tree's copy of that package; returns
 * what it linked, relative to the tree, which a patch of the tree must leave out.
 */
export async function linkDependencies(deps: InstalledDependencies, tree: string): Promise<string[]> {
  const linked: string[] = [];
  for (const name of deps.names) {
    const target = join(tree, name);
    if (existsSync(target)) continue;
    if (name !== 'node_modules' || deps.workspaces.length === 0) await symlink(join(deps.root, name), target, 'dir');
    else await linkPackages(deps.root, tree, name, new Map(deps.workspaces));
    linked.push(name);
  }
  for (const rel of deps.packageModules) {
    if (existsSync(join(tree, rel)) || !existsSync(dirname(join(tree, rel)))) continue;
    await symlink(join(deps.root, rel), join(tree, rel), 'dir');
    linked.push(rel);
  }
  return linked;
}

/**
 * The entries of `modules` (a node_modules folder, scoped packages one level down) that link to folders of
 * the user's checkout outside it: the packages of an npm, yarn or pnpm workspace (`node_modules/lib ->
 * ../packages/lib`), as [entry, folder relative to the checkout].
 */
async function workspaceLinks(realRoot: string, modules: string): Promise<[string, string][]> {
  const found: [string, string][] = [];
  const visit = async (dir: string, prefix: string) => {
    for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const name = `${prefix}${entry.name}`;
      if (entry.isDirectory() && entry.name.startsWith('@') && prefix === '') await visit(join(dir, entry.name), `${name}/`);
      if (!entry.isSymbolicLink()) continue;
      const real = await realpath(join(dir, entry.name)).catch(() => undefined);
      const rel = real === undefined ? undefined : relative(realRoot, real);
      if (rel !== undefined && rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel) && !rel.startsWith(`node_modules${sep}`)) found.push([name, rel]);
    }
  };
  await visit(modules, '');
  return found;
}

/**
 * A node_modules folder of the tree's own: every installed package links to the user's, but each workspace
 * package to the tree's copy of its folder, so that the tree's tests import the candidate's code.
 */
async function linkPackages(userRoot: string, tree: string, name: string, workspaces: ReadonlyMap<string, string>): Promise<void> {
  const make = async (rel: string) => {
    await mkdir(join(tree, name, rel), { recursive: true });
    for (const entry of await readdir(join(userRoot, name, rel), { withFileTypes: true })) {
      const entryRel = rel === '' ? entry.name : `${rel}/${entry.name}`;
      const own = workspaces.get(entryRel);
      if (own !== undefined) await symlink(relative(dirname(join(tree, name, entryRel)), join(tree, own)), join(tree, name, entryRel), 'dir');
      else if (rel === '' && entry.isDirectory() && entry.name.startsWith('@') && [...workspaces.keys()].some((k) => k.startsWith(`${entry.name}/`))) await make(entry.name);
      else await symlink(join(userRoot, name, entryRel), join(tree, name, entryRel));
    }
  };
  await make('');
}
