import t from 'tap';
import { request } from 'undici';
import { EdgeDaemon } from '../../../edge/daemon/daemon.js';
import { parseEdgeConfig } from '../../../edge/config/load.js';
import { hostAllowed, isLoopbackHost, opsHandler, startOpsHttp } from '../../../edge/daemon/ops-http.js';
import { ensureOpsToken, readOpsToken, opsTokenPath, OPS_TOKEN_ENV } from '../../../edge/daemon/ops-token.js';
import { FakeRecognizer } from '../../fixtures/fake-recognizer.js';
import { tempDir } from '../../fixtures/media.js';
import { sampleEvent } from '../../fixtures/events.js';
import { statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

async function edge(t: { teardown(fn: () => unknown): void }) {
  const cfg = parseEdgeConfig({
    edge_id: 'gate-ops',
    data_dir: tempDir(t),
    // Nothing listens on port 1: deliveries stay pending, which is all these tests need.
    cloud: { url: 'http://127.0.0.1:1', api_key: 'test-key-1', sync_config: false },
    delivery: { initial_backoff_ms: 60_000, max_backoff_ms: 600_000 },
    http: { port: 0 },
  });
  const d = new EdgeDaemon({ config: cfg, recognizer: new FakeRecognizer() });
  t.teardown(() => d.stop());
  await d.start();
  d.outbox.add(sampleEvent(1));
  const token = readOpsToken(cfg, {})!;
  return { d, cfg, token, url: d.httpUrl! };
}

const post = (url: string, headers: Record<string, string> = {}) => request(url, { method: 'POST', headers });

t.test('POST /outbox/replay with a junk exporter, 50 times: no rows, no metric series, 400 each time', async (t) => {
  const { d, token, url } = await edge(t);
  const rows = () => JSON.stringify(d.outbox.stats());
  const before = rows();
  for (let i = 0; i < 50; i++) {
    const res = await post(`${url}/outbox/replay?exporter=junk${i}`, { authorization: `Bearer ${token}` });
    t.equal(res.statusCode, 400);
    const body = (await res.body.json()) as { error_code: string; detail: string; request_id: string; timestamp: string };
    if (i === 0) {
      t.equal(body.error_code, 'VALIDATION_ERROR');
      t.match(body.detail, /unknown exporter 'junk0' \(configured: cloud\)/);
      t.ok(body.request_id && body.timestamp, 'the contract error body');
    }
  }
  t.equal(rows(), before, 'the outbox is unchanged');
  t.notMatch(d.metrics.text(), /junk/, 'no metric series for a name nobody configured');
  const r = await post(`${url}/outbox/retry?exporter=junk`, { authorization: `Bearer ${token}` });
  t.equal(r.statusCode, 400);
  await r.body.dump();
  const since = await post(`${url}/outbox/replay?exporter=cloud&since_ms=abc`, { authorization: `Bearer ${token}` });
  t.equal(since.statusCode, 400);
  await since.body.dump();
  const ok = await post(`${url}/outbox/replay?exporter=cloud`, { authorization: `Bearer ${token}` });
  t.equal(ok.statusCode, 200);
  t.same(await ok.body.json(), { queued: 1 });
});

t.test('changes need the token; without it or with a wrong one: 401 and nothing changes', async (t) => {
  const { d, token, url } = await edge(t);
  const before = JSON.stringify(d.outbox.stats());
  for (const headers of [{} as Record<string, string>, { authorization: 'Bearer wrong-token-0123456789' }, { authorization: token }, { authorization: `Basic ${token}` }]) {
    for (const path of ['/outbox/replay?exporter=cloud', '/outbox/retry']) {
      const res = await post(`${url}${path}`, headers);
      t.equal(res.statusCode, 401, `${path} ${JSON.stringify(headers).slice(0, 30)}`);
      t.equal(res.headers['www-authenticate'], 'Bearer');
      t.equal(((await res.body.json()) as { error_code: string }).error_code, 'AUTHENTICATION_FAILED');
    }
  }
  t.equal(JSON.stringify(d.outbox.stats()), before);
  const ok = await post(`${url}/outbox/retry`, { authorization: `Bearer ${token}` });
  t.equal(ok.statusCode, 200);
  await ok.body.dump();
});

t.test('DNS rebinding and browsers: a foreign Host or any Origin is refused, reads included', async (t) => {
  const { token, url } = await edge(t);
  const port = new URL(url).port;
  for (const host of [`evil.example:${port}`, 'rebind.attacker.test', '', 'localhost.evil.example']) {
    const res = await request(`${url}/status`, { headers: { host } });
    t.equal(res.statusCode, 403, `Host '${host}'`);
    t.equal(((await res.body.json()) as { error_code: string }).error_code, 'FORBIDDEN');
  }
  for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'localhost']) {
    const res = await request(`${url}/status`, { headers: { host } });
    t.equal(res.statusCode, 200, `Host '${host}'`);
    await res.body.dump();
  }
  for (const path of ['/status', '/metrics', '/healthz']) {
    const res = await request(`${url}${path}`, { headers: { origin: 'http://evil.example' } });
    t.equal(res.statusCode, 403, `Origin on ${path}`);
    await res.body.dump();
  }
  const res = await post(`${url}/outbox/retry`, { authorization: `Bearer ${token}`, origin: 'null' });
  t.equal(res.statusCode, 403, 'Origin: null with a valid token');
  await res.body.dump();
  t.ok(hostAllowed('[::1]:8089') && hostAllowed('10.1.2.3') && !hostAllowed('a.b:80') && !hostAllowed(undefined));
});

t.test('beyond loopback, /status and /metrics need the token too; /healthz stays open', async (t) => {
  t.ok(isLoopbackHost('127.0.0.1') && isLoopbackHost('::1') && isLoopbackHost('localhost'));
  t.notOk(isLoopbackHost('0.0.0.0') || isLoopbackHost('192.168.1.10') || isLoopbackHost('::'));
  const fake = {
    health: () => ({ ok: true, status: 'ok' as const, problems: [] }),
    status: () => ({ cameras: 'secret' }) as never,
    retry: () => 0,
    replay: () => 0,
    exportersInForce: () => ['cloud'],
    metrics: { text: () => 'm 1' },
  };
  const token = 'a-token-of-32-characters-0123456';
  // The handler with a LAN bind's policy, served on loopback (tests stay local).
  const server = createServer(opsHandler(fake, { token, readsNeedToken: true }));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  for (const path of ['/status', '/metrics']) {
    const res = await request(`${url}${path}`);
    t.equal(res.statusCode, 401, `${path} without the token`);
    await res.body.dump();
    const ok = await request(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    t.equal(ok.statusCode, 200, `${path} with the token`);
    await ok.body.dump();
  }
  const h = await request(`${url}/healthz`);
  t.equal(h.statusCode, 200);
  await h.body.dump();
  // And on loopback (the default) reads are open, changes are not.
  const ops = await startOpsHttp(fake, { host: '127.0.0.1', port: 0, token });
  t.teardown(() => ops.close());
  const open = await request(`${ops.url}/status`);
  t.equal(open.statusCode, 200);
  await open.body.dump();
  const change = await post(`${ops.url}/outbox/retry`);
  t.equal(change.statusCode, 401);
  await change.body.dump();
});

t.test('the token: created once (0600) in data_dir, read by clients, overridden by the environment', async (t) => {
  const cfg = parseEdgeConfig({ edge_id: 'tok', data_dir: tempDir(t) });
  t.equal(readOpsToken(cfg, {}), null, 'none before the daemon ran');
  const a = ensureOpsToken(cfg, {});
  t.match(a, /^[0-9a-f]{64}$/);
  t.equal(statSync(opsTokenPath(cfg)).mode & 0o777, 0o600);
  t.equal(ensureOpsToken(cfg, {}), a, 'kept across restarts');
  t.equal(readOpsToken(cfg, {}), a);
  t.equal(readOpsToken(cfg, { [OPS_TOKEN_ENV]: 'from-env-0123456789' }), 'from-env-0123456789');
  t.throws(() => readOpsToken(cfg, { [OPS_TOKEN_ENV]: 'short' }), /at least 16/);
  // A token file the client cannot read: a clear error naming the fix, not a stack trace.
  const unreadable = parseEdgeConfig({ edge_id: 'tok', data_dir: tempDir(t), http: { token_file: tempDir(t) } });
  t.throws(() => readOpsToken(unreadable, {}), { code: 'FORBIDDEN', message: /cannot read the ops token .*EISDIR.*ANPR_EDGE_OPS_TOKEN/ });
});
