/** The sandbox side of `allowlist` networking: a loopback listener that relays to the host's proxy socket. */

/** Environment variable naming the proxy socket inside the sandbox (read and removed by the shim). */
export const PROXY_SOCKET_VAR = 'ENTROPO_PROXY_SOCKET';

// Runs as `node -e SHIM file args...` inside the sandbox's network namespace. It listens on a free loopback
// port, relays every connection to the Unix socket, points the usual proxy variables at itself, then runs the
// command and exits with its status. Local addresses stay direct, so a test's own servers still work.
// Plain JavaScript in a string: it must run on the bare Node binary, without this package or a bundle.
const SHIM = `
const net = require('node:net');
const { spawn } = require('node:child_process');
const { constants } = require('node:os');
const socketPath = process.env.${PROXY_SOCKET_VAR};
delete process.env.${PROXY_SOCKET_VAR};
delete process.env.ELECTRON_RUN_AS_NODE;
const relay = net.createServer((client) => {
  const upstream = net.connect(socketPath);
  client.pipe(upstream);
  upstream.pipe(client);
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
});
relay.listen(0, '127.0.0.1', () => {
  const url = 'http://127.0.0.1:' + relay.address().port;
  for (const name of ['http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'all_proxy']) {
    process.env[name] = url;
  }
  process.env.NO_PROXY = process.env.no_proxy = 'localhost,127.0.0.1,::1';
  const [file, ...args] = process.argv.slice(1);
  const child = spawn(file, args, { stdio: 'inherit' });
  child.on('error', (error) => { process.stderr.write(error.message + '\\n'); process.exit(127); });
  child.on('exit', (code, signal) => process.exit(signal ? 128 + (constants.signals[signal] || 0) : code));
});
`;

/** The argv that runs `file args` behind the relay, with `nodePath` (this process's Node binary). */
export function shimArgv(nodePath: string, file: string, args: string[]): string[] {
  return [nodePath, '-e', SHIM, file, ...args];
}
