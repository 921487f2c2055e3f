/** A runner whose commands run inside an overlay workspace's mount namespace, where its files are. */
import type { MountNamespace, ProcessResult, ProcessRunner, RunOptions } from '../types.js';

/**
 * `path` as a process inside the namespace sees it, given as this process reaches it through `hostRoot`
 * (`/proc/<pid>/root/...`); any other path (none given, or one outside it) is the same there.
 */
export function pathInside(path: string, hostRoot: string | undefined): string {
  return hostRoot && path.startsWith(`${hostRoot}/`) ? path.slice(hostRoot.length) : path;
}

/**
 * Wraps `runner` so that each command starts through the namespace's `enter` prefix (nsenter), in the working
 * folder the caller gives as this process reaches it (`/proc/<pid>/root/...`), which inside is the
 * workspace's own path. Joining the namespace's pid namespace ties every process a command leaves behind to
 * the namespace's life. For runners that spawn plain programs; a sandbox enters the namespace itself.
 */
export function inNamespace(runner: ProcessRunner, namespace: MountNamespace | undefined): ProcessRunner {
  if (!namespace) return runner;
  const [enter, ...prefix] = namespace.enter;
  const exec = (file: string, args: string[], options: RunOptions): Promise<ProcessResult> =>
    runner.exec(enter, [...prefix, file, ...args], options);
  return {
    shell: (command, options) => exec('bash', ['-c', command], options),
    exec,
  };
}
