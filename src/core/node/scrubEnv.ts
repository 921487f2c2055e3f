/** Environment scrubbing: secrets of the user and of the agent never reach a tool subprocess. */

const SECRET_NAME = /(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH|COOKIE|SESSION)/i;
const DROPPED_PREFIXES = ['OPENAI_', 'ANTHROPIC_', 'ENTROPO_', 'AWS_', 'AZURE_', 'GOOGLE_', 'GH_', 'GITHUB_', 'HF_', 'VSCODE_', 'ELECTRON_'];
// git variables that would redirect git commands run by the agent away from its worktree.
const GIT_REDIRECTS = ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_OBJECT_DIRECTORY', 'GIT_ALTERNATE_OBJECT_DIRECTORIES', 'GIT_COMMON_DIR'];

/** Returns a copy of `env` without secrets, cloud credentials and git redirections. */
export function scrubEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const clean: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (SECRET_NAME.test(name)) continue;
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
