/** The environment of a sandboxed command: scrubbed, without the configured secrets, pointed at private folders. */
import { scrubEnv } from '../node/scrubEnv.js';

// Pointers to the user's desktop session, agents and tickets: harmless as names, but they lead a command
// to sockets and files it must not use (an X server accepts keystrokes, a Kerberos cache is a credential).
const SESSION_POINTERS = ['DBUS_SESSION_BUS_ADDRESS', 'XDG_RUNTIME_DIR', 'DISPLAY', 'WAYLAND_DISPLAY', 'XAUTHORITY',
  'SSH_AGENT_PID', 'GPG_AGENT_INFO', 'KRB5CCNAME', 'BROWSER'];
// Shorter "secrets" would remove unrelated variables by accident; no real API key is this short.
const MIN_SECRET_LENGTH = 6;

/** Paths the sandbox provides in place of the host's temp and cache folders. */
export const SANDBOX_TMP = '/tmp';

/**
 * `base` scrubbed by name (scrubEnv), then without every variable whose value contains one of `secrets`
 * (the API key under any name, or inside a URL), without session pointers, and with private temp and cache
 * folders.
 */
export function sandboxEnv(base: NodeJS.ProcessEnv, secrets: readonly string[] = []): Record<string, string> {
  const env = withoutSecrets(base, secrets);
  for (const name of SESSION_POINTERS) delete env[name];
  env.TMPDIR = SANDBOX_TMP;
  env.TMP = SANDBOX_TMP;
  env.TEMP = SANDBOX_TMP;
  // The home folder is read-only; tools that cache (pip, go build, pytest plugins) write here instead.
  env.XDG_CACHE_HOME = `${SANDBOX_TMP}/.cache`;
  return env;
}

/** `base` scrubbed by name (scrubEnv) and without every variable whose value contains one of `secrets`. */
export function withoutSecrets(base: NodeJS.ProcessEnv, secrets: readonly string[] = []): Record<string, string> {
  const env = scrubEnv(base);
  const needles = secrets.filter((s) => s.length >= MIN_SECRET_LENGTH);
  for (const [name, value] of Object.entries(env)) {
    if (needles.some((secret) => value.includes(secret))) delete env[name];
  }
  return env;
}
