/** Where a developer machine keeps credentials that a sandboxed command must never see. */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * Secret-bearing paths relative to the home folder: cloud and registry credentials, keys, token stores,
 * editor server state (which holds the extension's secrets), shell startup files and histories (exported and
 * pasted tokens), and the preference stores of every repository. `.config` is
 * hidden as a whole: gh, gcloud, Code and most CLIs keep their tokens there. `~/.cache` stays readable
 * (poetry and pre-commit keep environments there) except the Hugging Face token.
 */
export const DEFAULT_HOME_SECRETS: readonly string[] = [
  '.ssh', '.aws', '.azure', '.config', '.netrc', '.docker', '.kube', '.gnupg', '.password-store', '.pki',
  '.vscode-server', '.vscode-remote', '.vscode', '.cache/huggingface', '.local/share/keyrings', '.mozilla', '.Xauthority',
  '.npmrc', '.yarnrc', '.yarnrc.yml', '.pypirc', '.git-credentials', '.gem/credentials', '.cargo/credentials',
  '.cargo/credentials.toml', '.m2/settings.xml', '.gradle/gradle.properties', '.terraform.d', '.vault-token',
  '.huggingface', '.ollama', '.pulumi', '.bash_history', '.zsh_history', '.python_history', '.node_repl_history',
  '.psql_history', '.mysql_history', '.lesshst', '.viminfo',
  // Shell startup files: where people export API keys (ENTROPO_API_KEY, OPENAI_API_KEY) and tokens.
  '.bashrc', '.bash_profile', '.bash_login', '.profile', '.zshrc', '.zshenv', '.zprofile', '.zlogin', '.kshrc', '.cshrc', '.tcshrc',
  // Database, object-store and cloud clients' own credential files.
  '.pgpass', '.my.cnf', '.mylogin.cnf', '.s3cfg', '.boto', '.passwd-s3fs', '.mc', '.kaggle', '.databrickscfg', '.snowflake',
  '.oci', '.ibmcloud', '.bluemix', '.fly', '.wrangler', '.netlify', '.tsh', '.android/adbkey', '.composer/auth.json',
  '.nuget/NuGet/NuGet.Config', '.ivy2/.credentials', '.sbt/.credentials', '.lein/credentials.clj.gpg', '.terraformrc',
  // git's own: tokens in http.extraHeader or in remote URLs of the global config, the credential cache's socket.
  '.gitconfig', '.git-credential-cache', '.cache/git',
  // Other coding agents' logins.
  '.codex', '.claude', '.claude.json', '.gemini', '.continue', '.aider.conf.yml',
  // The preference stores of every repository (issues, trajectories, patches), not only the current one's.
  '.local/state/entropo',
];

/**
 * System paths hidden from every command: /run holds the sockets of system daemons (docker, D-Bus, the
 * user's session bus and agents, databases), and a socket stays connectable through a read-only mount.
 */
export const DEFAULT_SYSTEM_SECRETS: readonly string[] = ['/run', '/var/run', '/var/lib/lxd', '/var/snap/lxd/common/lxd'];

/** The absolute paths to hide for `home`, before the caller's additions; missing ones are skipped later. */
export function defaultHiddenPaths(home: string): string[] {
  return [...DEFAULT_HOME_SECRETS.map((rel) => join(home, rel)), ...DEFAULT_SYSTEM_SECRETS];
}

/**
 * The user's checkout as a path to hide from code run for it (its ignored `.env`, untracked notes), or none
 * when hiding it would hide the home folder too: a repository of dotfiles at ~ holds the toolchains
 * (pyenv, nvm, cargo) every command needs.
 */
export function checkoutToHide(root: string, home: string = homedir()): string[] {
  const resolvedRoot = resolve(root);
  const resolvedHome = resolve(home);
  return resolvedHome === resolvedRoot || resolvedHome.startsWith(`${resolvedRoot.replace(/\/$/, '')}/`) || resolvedRoot === '/' ? [] : [resolvedRoot];
}
