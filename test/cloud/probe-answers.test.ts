/**
 * Probe oracle (issue 11, item 7): camera tests, snapshots and exporter tests must not tell a
 * closed port from a filtered (silent) host or from a service that is not a camera / not an
 * HTTP or MQTT server. Each of them reads `Connection failed`, answered at the timeout.
 */
import t, { type Test } from 'tap';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { startTestCloud } from './helpers.js';

const TIMEOUT_S = 2;

async function listen(t: Test, onSocket: (s: Socket) => void): Promise<number> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    onSocket(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return (server.address() as AddressInfo).port;
}

t.test('closed, silent and foreign destinations read the same, at the timeout', async (t) => {
  const c = await startTestCloud(t);
  const silentPort = await listen(t, () => undefined);
  // Not a camera, not HTTP: an SSH-like banner, then hang up.
  const foreignPort = await listen(t, (s) => s.end('SSH-2.0-OpenSSH_9.2p1\r\n'));
  const targets = { closed: `127.0.0.1:${await freePort()}`, silent: `127.0.0.1:${silentPort}`, foreign: `127.0.0.1:${foreignPort}` };

  const answers: Record<string, unknown[]> = {};
  for (const [kind, hostPort] of Object.entries(targets)) {
    const cam = (await (await c.req('/config/cameras', { method: 'POST', token: c.adminToken, json: { name: kind, rtsp_url: `rtsp://admin:pw@${hostPort}/s` } })).json()).id as string;
    const hook = (await (await c.req('/config/exporters', { method: 'POST', token: c.adminToken, json: { name: kind, type: 'webhook', url: `http://${hostPort}/hook` } })).json()).id as string;
    const mqtt = (await (await c.req('/config/exporters', { method: 'POST', token: c.adminToken, json: { name: `${kind}-m`, type: 'mqtt', url: `mqtt://${hostPort}`, config: { topic: 'a' } } })).json()).id as string;
    const test = await c.req(`/config/cameras/${cam}/test?timeout=${TIMEOUT_S}`, { method: 'POST', token: c.adminToken });
    const snap = await c.req(`/config/cameras/${cam}/snapshot?timeout=${TIMEOUT_S}`, { token: c.adminToken });
    const hookTest = await c.req(`/config/exporters/${hook}/test?timeout=${TIMEOUT_S}`, { method: 'POST', token: c.adminToken });
    const mqttTest = await c.req(`/config/exporters/${mqtt}/test?timeout=${TIMEOUT_S}`, { method: 'POST', token: c.adminToken });
    const tb = await test.json();
    const sb = await snap.json();
    const hb = await hookTest.json();
    const mb = await mqttTest.json();
    t.ok(tb.response_time_ms >= TIMEOUT_S * 1000 - 50, `${kind} camera test answered at the timeout (${tb.response_time_ms} ms)`);
    t.ok(hb.response_time_ms >= TIMEOUT_S * 1000 - 50, `${kind} webhook test answered at the timeout (${hb.response_time_ms} ms)`);
    t.ok(mb.response_time_ms >= TIMEOUT_S * 1000 - 50, `${kind} MQTT test answered at the timeout (${mb.response_time_ms} ms)`);
    answers[kind] = [test.status, tb.error, tb.message, snap.status, sb.detail, hookTest.status, hb.error, hb.http_status, mqttTest.status, mb.error];
  }
  t.same(answers.closed, [503, 'Connection failed', 'Failed to connect to RTSP stream: Connection failed', 503, 'Snapshot failed: Connection failed', 503, 'Connection failed', undefined, 503, 'Connection failed']);
  t.same(answers.silent, answers.closed, 'a silent host reads like a closed port');
  t.same(answers.foreign, answers.closed, 'a service that is not a camera reads like a closed port');
});

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
