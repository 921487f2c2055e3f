import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AllowlistProxy, hostAllowed } from '../../../src/core/sandbox/allowlistProxy.js';
import { cleanup, tempDir } from './helpers.js';

describe('hostAllowed', () => {
  const allowed = ['pypi.org', 'files.pythonhosted.org:443', '*.npmjs.org', '[::1]:8080', 'Example.COM.'];

  it.each([
    ['pypi.org', 443, true],
    ['pypi.org', 22, true],
    ['PyPI.org.', 80, true],
    ['files.pythonhosted.org', 443, true],
    ['files.pythonhosted.org', 80, false],
    ['registry.npmjs.org', 443, true],
    ['npmjs.org', 443, true],
    ['evilnpmjs.org', 443, false],
    ['npmjs.org.evil.com', 443, false],
    ['::1', 8080, true],
    ['::1', 8081, false],
    ['example.com', 443, true],
    ['sub.pypi.org', 443, false],
    ['169.254.169.254', 80, false],
  ])('%s:%d -> %s', (host, port, expected) => {
    expect(hostAllowed(allowed, host, port)).toBe(expected);
  });

  it('allows nothing with an empty list', () => {
    expect(hostAllowed([], 'pypi.org', 443)).toBe(false);
  });
});

describe('AllowlistProxy', () => {
  let upstream: http.Server;
  let port: number;
  let proxy: AllowlistProxy;
  let socketPath: string;

  beforeAll(async () => {
    upstream = http.createServer((req, res) => res.end(`upstream saw ${req.method} ${req.url}`));
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    port = (upstream.address() as AddressInfo).port;
    socketPath = join(tempDir('entropo-sbx-proxy-'), 'proxy.sock');
    proxy = new AllowlistProxy([`127.0.0.1:${port}`]);
    await proxy.listen(socketPath);
  });

  afterAll(async () => {
    await proxy.close();
    await new Promise((resolve) => upstream.close(resolve));
    cleanup();
  });

  // Sends raw bytes to the proxy socket and collects what comes back until the peer closes or `until` matches.
  const exchange = (request: string, until?: RegExp) => new Promise<string>((resolve, reject) => {
    const socket = net.connect(socketPath);
    let received = '';
    socket.on('data', (chunk) => {
      received += chunk.toString();
      if (until?.test(received)) socket.end();
    });
    socket.on('end', () => resolve(received));
    socket.on('error', reject);
    socket.write(request);
  });

  it('forwards a plain HTTP request to an allowed host', async () => {
    const reply = await exchange(`GET http://127.0.0.1:${port}/simple?q=1 HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`);
    expect(reply).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(reply).toContain('upstream saw GET /simple?q=1');
  });

  it('refuses a plain HTTP request to another host with a 403 that names it', async () => {
    const reply = await exchange(`GET http://127.0.0.1:${port + 1}/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    expect(reply).toMatch(/^HTTP\/1\.1 403 Forbidden/);
    expect(reply).toContain(`does not include 127.0.0.1:${port + 1}; allowed: 127.0.0.1:${port}.`);
  });

  it('opens a CONNECT tunnel to an allowed host', async () => {
    const reply = await exchange(
      `CONNECT 127.0.0.1:${port} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`
        + `GET /through-tunnel HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
      /upstream saw GET \/through-tunnel/,
    );
    expect(reply).toMatch(/^HTTP\/1\.1 200 Connection Established\r\n\r\nHTTP\/1\.1 200 OK/);
  });

  it('refuses a CONNECT tunnel to another host', async () => {
    const reply = await exchange('CONNECT github.com:443 HTTP/1.1\r\nHost: github.com:443\r\n\r\n');
    expect(reply).toMatch(/^HTTP\/1\.1 403 Forbidden/);
    expect(reply).toContain('does not include github.com:443');
  });
});
