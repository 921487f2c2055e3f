/** The parts of a run as the settings build them: here, the judge's client and how long its calls may wait. */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { endpointFrom, verifierFactory } from '../../../src/core/pipeline/fromSettings.js';
import { resolveSettings } from '../../../src/core/settings/resolveSettings.js';

const patch = (tag: string) => `diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a = 1\n+a = 2  # ${tag}\n`;

/** A server that accepts every connection and never answers: neither /models nor a chat request. */
async function silentServer(): Promise<{ url: string; requests: () => number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  let count = 0;
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.once('data', () => count++);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    requests: () => count,
    close: () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}

describe('the judge built from the settings', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => { for (const c of cleanups.splice(0)) await c(); });

  it.each(['own', 'agent\'s'] as const)('on its %s endpoint, waits for a silent server as long as --request-timeout says, not the default minute', async (which) => {
    const silent = await silentServer();
    cleanups.push(silent.close);
    const settings = resolveSettings({
      requestTimeoutSeconds: { value: 1 }, model: { value: 'agent-model' }, localVerifier: { value: false }, tests: { value: false },
      ...(which === 'own' ? { judgeEndpoint: { value: silent.url }, judgeModel: { value: 'judge' } } : { endpoint: { value: silent.url } }),
    }, (name) => name);
    const agentEndpoint = which === 'own' ? undefined : endpointFrom(settings);
    const [judge] = verifierFactory(settings, { agentEndpoint })({ issue: 'page_count is off by one' });
    expect(judge.signals).toEqual(['judge']);
    const started = Date.now();
    // A run's signal, as the pipeline passes it: it must not be all that ends the judge's first question.
    const run = new AbortController();
    const values = (await judge.verify(['a', 'b', 'c'].map((id) => ({ id, patch: patch(id) })), run.signal)).judge!;
    expect(Date.now() - started).toBeLessThan(20_000);
    const first = values.get('a');
    expect(first).toEqual({ status: 'unavailable', reason: expect.stringMatching(/^judge failed: The model server at \S+ did not start answering within 1 s; /) });
    expect(values.get('b')).toEqual(first);
    expect(values.get('c')).toEqual(first);
    // One for the server's kind (/models, given up after 5 s), one for the first judgement; the others are not asked.
    expect(silent.requests()).toBe(2);
  });
});
