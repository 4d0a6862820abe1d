/**
 * MQTT exporter test against hostile peers (issue 11, item 6): a peer that closes after the
 * first packet, a peer that accepts and never answers, and a ws:// URL. Each test answers
 * within its timeout (+1 s) and ends the client: the peer sees its socket closed.
 */
import t, { type Test } from 'tap';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { startTestCloud } from './helpers.js';

interface Peer {
  port: number;
  /** Resolves when every socket the peer accepted so far has closed. */
  allClosed(): Promise<void>;
  accepted(): number;
}

async function peer(t: Test, onSocket: (s: Socket) => void): Promise<Peer> {
  const open = new Set<Promise<void>>();
  let n = 0;
  const server: Server = createServer((s) => {
    n++;
    s.on('error', () => undefined);
    s.resume(); // a socket that is read sees the client's FIN (and closes)
    open.add(new Promise<void>((r) => s.once('close', () => r())));
    onSocket(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  return { port: (server.address() as AddressInfo).port, allClosed: async () => void (await Promise.all(open)), accepted: () => n };
}

const TIMEOUT_S = 2;

t.test('MQTT test answers in time and ends its client, whatever the peer does', async (t) => {
  const c = await startTestCloud(t);
  // Reads the CONNECT packet, then hangs up.
  const closer = await peer(t, (s) => s.once('data', () => s.destroy()));
  // Accepts and says nothing, ever.
  const mute = await peer(t, () => undefined);

  const cases = [
    { name: 'closes after the first packet', url: `mqtt://127.0.0.1:${closer.port}`, p: closer },
    { name: 'never answers', url: `mqtt://127.0.0.1:${mute.port}`, p: mute },
    { name: 'ws:// URL to a peer that closes after the first packet', url: `ws://127.0.0.1:${closer.port}/mqtt`, p: closer },
    { name: 'ws:// URL to a peer that never answers', url: `ws://127.0.0.1:${mute.port}/mqtt`, p: mute },
  ];
  for (const k of cases) {
    const made = await c.req('/config/exporters', { method: 'POST', token: c.adminToken, json: { name: k.name, type: 'mqtt', url: k.url, config: { topic: 'anpr/events' } } });
    t.equal(made.status, 201);
    const id = ((await made.json()) as { id: string }).id;
    const before = k.p.accepted();
    const r = await c.req(`/config/exporters/${id}/test?timeout=${TIMEOUT_S}`, { method: 'POST', token: c.adminToken });
    const body = (await r.json()) as { status: string; response_time_ms: number; error: string };
    t.equal(r.status, 503, `${k.name}: failed`);
    t.match(body, { status: 'failed', error: String }, k.name);
    t.ok(body.response_time_ms <= TIMEOUT_S * 1000 + 1000, `${k.name}: answered within timeout + 1 s (${body.response_time_ms} ms)`);
    t.ok(k.p.accepted() > before, `${k.name}: the probe reached the peer`);
    await k.p.allClosed();
    t.pass(`${k.name}: the client was ended (the peer's socket closed)`);
  }
});
