/** Environment scrubbing: secrets of the user and of the agent never reach a tool subprocess. */

const SECRET_NAME = /(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH|COOKIE|SESSION)|(^|_)DSN($|_)|._PWD$/i;
const DROPPED_PREFIXES = ['OPENAI_', 'ANTHROPIC_', 'ENTROPO_', 'AWS_', 'AZURE_', 'GOOGLE_', 'GH_', 'GITHUB_', 'HF_', 'VSCODE_', 'ELECTRON_'];
// Values that are credentials whatever the variable is called: a URL with a password in it
// (DATABASE_URL=postgres://app:hunter2@db/app), a private key, and the exact shapes of well-known API keys and
// tokens, as whole words (not a folder named sk-learn-models-2024 inside a path).
const URL_PASSWORD = /\b[a-z][a-z0-9+.-]*:\/\/[^\s/@:]+:[^\s/@]+@/i;
const PRIVATE_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;
const TOKEN = new RegExp(String.raw`(?<![\w./-])(?:sk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}|[rs]k_(?:live|test)_[0-9a-zA-Z]{16,}|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_\w{20,}|glpat-[\w-]{20,}|xox[abprs]-[\w-]{10,}|hf_[A-Za-z0-9]{30,}|npm_[A-Za-z0-9]{36}|AKIA[0-9A-Z]{16}|AIza[\w-]{35}|eyJ[\w-]{10,}\.eyJ[\w-]{10,}\.[\w-]{10,})(?![\w./-])`);
// Lists of folders and the like, which hold paths rather than credentials: only their names are checked.
const PATH_LIKE = /(^|_)(PATH|DIR|HOME|ROOT)$|^(PWD|OLDPWD|VIRTUAL_ENV|SHELL)$/;

function secretValue(name: string, value: string): boolean {
  if (PATH_LIKE.test(name)) return false;
  return URL_PASSWORD.test(value) || PRIVATE_KEY.test(value) || TOKEN.test(value);
}

// git variables that would redirect git commands run by the agent away from its worktree.
const GIT_REDIRECTS = ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_OBJECT_DIRECTORY', 'GIT_ALTERNATE_OBJECT_DIRECTORIES', 'GIT_COMMON_DIR'];

/** Returns a copy of `env` without secrets (by name or by value), cloud credentials and git redirections. */
export function scrubEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const clean: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (SECRET_NAME.test(name) || secretValue(name, value)) continue;
    if (DROPPED_PREFIXES.some((prefix) => name.startsWith(prefix))) continue;
    if (GIT_REDIRECTS.includes(name)) continue;
    clean[name] = value;
  }
  // Tools must never wait for a person: no pagers, no editors, no credential prompts.
  clean.PAGER = 'cat';
  clean.GIT_PAGER = 'cat';
  clean.GIT_TERMINAL_PROMPT = '0';
  clean.GIT_EDITOR = 'true';
  return clean;
}
