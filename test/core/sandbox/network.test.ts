import { spawnSync } from 'node:child_process';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectSandbox } from '../../../src/core/sandbox/detectSandbox.js';
import { SandboxedProcessRunner } from '../../../src/core/sandbox/sandboxedProcessRunner.js';
import type { SandboxOptions, SandboxSupport } from '../../../src/core/sandbox/sandboxTypes.js';
import { cleanup, sandbox, tempDir } from './helpers.js';

// Fetches a URL with Python's urllib (which honours http_proxy), printing the status and body or the error.
const FETCH = `python3 -c '
import sys, urllib.request, urllib.error
opener = urllib.request.build_opener(*([urllib.request.ProxyHandler({})] if len(sys.argv) > 2 else []))
try:
    reply = opener.open(sys.argv[1], timeout=5)
    print(reply.status, reply.read().decode())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode().strip())
except Exception as e:
    print("ERROR", type(e).__name__)
'`;

const hasCurl = spawnSync('curl', ['--version']).status === 0;

describe.skipIf(!sandbox.available)('SandboxedProcessRunner: network', () => {
  let support: SandboxSupport;
  let worktree: string;
  const servers: http.Server[] = [];
  const ports: number[] = [];
  const runners: SandboxedProcessRunner[] = [];
  const fetchIn = async (options: Partial<SandboxOptions>, url: string, extra = '') => {
    const runner = new SandboxedProcessRunner({ writable: [worktree], ...options }, support);
    runners.push(runner);
    const result = await runner.shell(`${extra}${FETCH} ${url}`, { cwd: worktree, timeoutMs: 30_000 });
    return result.stdout.trim();
  };

  beforeAll(async () => {
    support = await detectSandbox();
    worktree = tempDir('entropo-sbx-net-');
    for (const name of ['first', 'second']) {
      const server = http.createServer((_req, res) => res.end(`hello from the ${name} host server`));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      servers.push(server);
      ports.push((server.address() as AddressInfo).port);
    }
  });

  afterAll(async () => {
    await Promise.all(runners.map((r) => r.dispose()));
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    cleanup();
  });

  it('cannot reach a server on the host\'s loopback when the network is off (the default)', async () => {
    expect(await fetchIn({}, `http://127.0.0.1:${ports[0]}/`)).toBe('ERROR URLError');
  });

  it('still has its own loopback when the network is off, so a test can run a local server', async () => {
    const server = 'python3 -m http.server 8765 --bind 127.0.0.1 >/dev/null 2>&1 & '
      + 'for i in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/8765) 2>/dev/null && break; sleep 0.1; done; ';
    expect(await fetchIn({}, 'http://127.0.0.1:8765/', server)).toMatch(/^200 <!DOCTYPE HTML>/i);
  });

  it('reaches the host when the network is on', async () => {
    expect(await fetchIn({ network: 'on' }, `http://127.0.0.1:${ports[0]}/`)).toBe('200 hello from the first host server');
  });

  describe('allowlist', () => {
    const allow = { network: 'allowlist' as const, allowedHosts: [] as string[] };
    // The shim keeps loopback addresses direct (a test's own servers); here the "remote" hosts are on loopback.
    const viaProxy = 'unset NO_PROXY no_proxy; ';

    beforeAll(() => {
      allow.allowedHosts = [`127.0.0.1:${ports[0]}`];
    });

    it('reaches an allowed host through the proxy', async () => {
      expect(await fetchIn(allow, `http://127.0.0.1:${ports[0]}/`, viaProxy)).toBe('200 hello from the first host server');
    });

    it('refuses a host that is not allowed, saying why', async () => {
      expect(await fetchIn(allow, `http://127.0.0.1:${ports[1]}/`, viaProxy))
        .toBe(`403 The sandbox's network allow-list does not include 127.0.0.1:${ports[1]}; allowed: 127.0.0.1:${ports[0]}.`);
    });

    it.skipIf(!hasCurl)('tunnels with CONNECT too (curl -p)', async () => {
      const runner = new SandboxedProcessRunner({ writable: [worktree], ...allow }, support);
      runners.push(runner);
      const ok = await runner.shell(`${viaProxy}curl -sS -p http://127.0.0.1:${ports[0]}/`, { cwd: worktree, timeoutMs: 30_000 });
      expect(ok.stdout).toBe('hello from the first host server');
      const refused = await runner.shell(`${viaProxy}curl -sS -p http://127.0.0.1:${ports[1]}/`, { cwd: worktree, timeoutMs: 30_000 });
      expect(refused.exitCode).not.toBe(0);
      expect(refused.stderr).toMatch(/CONNECT tunnel failed, response 403|Received HTTP code 403 from proxy after CONNECT/);
    });

    it('has no way around the proxy', async () => {
      expect(await fetchIn(allow, `http://127.0.0.1:${ports[0]}/ direct`, viaProxy)).toBe('ERROR URLError');
    });
  });

  it('rejects an allowlist without hosts', () => {
    expect(() => new SandboxedProcessRunner({ writable: [worktree], network: 'allowlist' }, support)).toThrow(/at least one allowed host/);
  });
});
