/** The host side of `allowlist` networking: an HTTP(S) proxy on a Unix socket that only reaches allowed hosts. */
import * as http from 'node:http';
import * as net from 'node:net';
import type { Duplex } from 'node:stream';

/**
 * A forward proxy (plain HTTP requests and CONNECT tunnels) that refuses every host not on the allow-list
 * with a 403 that names the host. It listens on a Unix socket, which the sandbox sees through a bind mount:
 * the sandbox's own network namespace has no other way out, so a client that ignores the proxy settings
 * gets no network at all rather than an unfiltered one.
 */
export class AllowlistProxy {
  private server?: http.Server;
  private readonly open = new Set<Duplex>();

  constructor(private readonly allowed: readonly string[]) {}

  /** Starts listening on `socketPath` (which must not exist). */
  async listen(socketPath: string): Promise<void> {
    const server = http.createServer(this.onRequest);
    server.on('connect', this.onConnect);
    server.on('connection', (socket: net.Socket) => this.track(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => resolve());
    });
    this.server = server;
  }

  /** Stops listening and cuts every open connection. */
  async close(): Promise<void> {
    for (const socket of this.open) socket.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private readonly onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    let url: URL;
    try {
      url = new URL(req.url ?? '');
    } catch {
      return refuse(res, 400, 'This proxy forwards absolute http:// URLs and CONNECT tunnels only.');
    }
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = Number(url.port || 80);
    if (url.protocol !== 'http:') return refuse(res, 400, `This proxy does not forward ${url.protocol} URLs.`);
    if (!hostAllowed(this.allowed, host, port)) return refuse(res, 403, this.denial(host, port));
    const headers = { ...req.headers };
    delete headers['proxy-connection'];
    delete headers['proxy-authorization'];
    const upstream = http.request({ host, port, method: req.method, path: url.pathname + url.search, headers }, (reply) => {
      res.writeHead(reply.statusCode ?? 502, reply.headers);
      reply.pipe(res);
    });
    upstream.on('error', (error) => refuse(res, 502, `The proxy could not reach ${host}:${port}: ${error.message}`));
    req.pipe(upstream);
  };

  private readonly onConnect = (req: http.IncomingMessage, client: Duplex, head: Buffer): void => {
    this.track(client);
    const target = parseAuthority(req.url ?? '');
    if (!target || !hostAllowed(this.allowed, target.host, target.port)) {
      const message = target ? this.denial(target.host, target.port) : `Bad CONNECT target: ${req.url}`;
      client.end(`HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${message}\n`);
      return;
    }
    const upstream = net.connect(target.port, target.host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    this.track(upstream);
    upstream.on('error', (error) => client.end(`HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n\r\n${error.message}\n`));
    client.on('error', () => upstream.destroy());
  };

  private denial(host: string, port: number): string {
    return `The sandbox's network allow-list does not include ${host}:${port}; allowed: ${this.allowed.join(', ') || 'nothing'}.`;
  }

  private track(socket: Duplex): void {
    this.open.add(socket);
    socket.once('close', () => this.open.delete(socket));
  }
}

/**
 * True when `host:port` matches an entry: `host` (any port), `host:port`, `[v6]:port`, or `*.domain` (the
 * domain and every subdomain). Names compare case-insensitively; there is no other wildcard.
 */
export function hostAllowed(allowed: readonly string[], host: string, port: number): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  return allowed.some((raw) => {
    const entry = parseEntry(raw.trim().toLowerCase());
    if (entry.port !== undefined && entry.port !== port) return false;
    if (entry.host.startsWith('*.')) {
      const domain = entry.host.slice(2);
      return name === domain || name.endsWith(`.${domain}`);
    }
    return name === entry.host;
  });
}

function parseEntry(entry: string): { host: string; port?: number } {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (v6) return { host: v6[1], port: v6[2] ? Number(v6[2]) : undefined };
  const withPort = /^([^:]+):(\d+)$/.exec(entry);
  if (withPort) return { host: withPort[1].replace(/\.$/, ''), port: Number(withPort[2]) };
  return { host: entry.replace(/\.$/, '') };
}

function parseAuthority(authority: string): { host: string; port: number } | null {
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(authority) ?? /^([^:]+):(\d+)$/.exec(authority);
  return match ? { host: match[1], port: Number(match[2]) } : null;
}

function refuse(res: http.ServerResponse, status: number, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'Content-Type': 'text/plain', Connection: 'close' });
  res.end(`${message}\n`);
}
