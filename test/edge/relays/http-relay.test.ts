/** The HTTP relay through the BarrierController, against a real HTTP server on 127.0.0.1. */
import t from 'tap';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { BarrierController, RelayErrorCode } from '../../../edge/relays/index.js';
import { createLogger } from '../../../shared/log.js';
import { waitFor } from '../../fixtures/wait.js';

interface Hit {
  method: string;
  path: string;
  body: string;
  headers: IncomingMessage['headers'];
}

/** A relay endpoint: `answer` decides each request's status (null = never answer). */
async function relayServer(t: { teardown(fn: () => unknown): void }, answer: (hit: Hit, n: number) => number | null) {
  const hits: Hit[] = [];
  const held: ServerResponse[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const hit = { method: req.method!, path: req.url!, body, headers: req.headers };
      hits.push(hit);
      const status = answer(hit, hits.length);
      if (status === null) held.push(res);
      else res.writeHead(status).end('done');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(async () => {
    for (const r of held) r.destroy();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  return { hits, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

const barrier = (relay: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ id: 'gate', type: 'barrier', config: { relay, ...extra } });

t.test('a 200 pulses once: one request, with the pulse and the auth', async (t) => {
  const srv = await relayServer(t, () => 200);
  const ctl = new BarrierController();
  t.teardown(() => ctl.close());
  const before = Date.now();
  const res = await ctl.open('pass-1', barrier({ kind: 'http', url: `${srv.url}/relay/0`, auth: { type: 'bearer', token: 'relay-token' }, headers: { 'X-Site': 'north' } }, { pulse_duration_ms: 700 }));
  t.match(res, { ok: true, attempts: 1 });
  t.ok(res.sent_at! >= before && res.sent_at! <= Date.now(), 'sent_at is when the command went out');
  t.equal(srv.hits.length, 1);
  t.match(srv.hits[0], { method: 'POST', path: '/relay/0', headers: { authorization: 'Bearer relay-token', 'x-site': 'north', 'content-type': 'application/json' } });
  t.same(JSON.parse(srv.hits[0]!.body), { action: 'pulse', duration_ms: 700 });
});

t.test('GET with basic auth sends no body', async (t) => {
  const srv = await relayServer(t, () => 204);
  const ctl = new BarrierController();
  t.teardown(() => ctl.close());
  const res = await ctl.open('p', barrier({ kind: 'http', url: `${srv.url}/rpc/Switch.Set?id=0&on=true`, method: 'GET', auth: { type: 'basic', username: 'admin', password: 'pw' } }));
  t.match(res, { ok: true, attempts: 1 });
  t.match(srv.hits[0], { method: 'GET', path: '/rpc/Switch.Set?id=0&on=true', body: '', headers: { authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}` } });
});

t.test('a 500 is retried, then the open fails with RELAY_HTTP_STATUS', async (t) => {
  const srv = await relayServer(t, () => 500);
  const ctl = new BarrierController({ tries: 3, retryDelayMs: 20 });
  t.teardown(() => ctl.close());
  const res = await ctl.open('pass-1', barrier({ kind: 'http', url: `${srv.url}/x` }));
  t.match(res, { ok: false, attempts: 3, error: { code: RelayErrorCode.HTTP_STATUS } });
  t.match(res.error!.message, /HTTP 500/);
  t.equal(srv.hits.length, 3, 'three requests');
});

t.test('a 500 then a 200: the retry opens it', async (t) => {
  const srv = await relayServer(t, (_h, n) => (n === 1 ? 503 : 200));
  const ctl = new BarrierController({ retryDelayMs: 20 });
  t.teardown(() => ctl.close());
  t.match(await ctl.open('p', barrier({ kind: 'http', url: srv.url })), { ok: true, attempts: 2 });
});

t.test('a 4xx is not retried (a wrong URL or token stays wrong)', async (t) => {
  const srv = await relayServer(t, () => 401);
  const ctl = new BarrierController({ retryDelayMs: 20 });
  t.teardown(() => ctl.close());
  t.match(await ctl.open('p', barrier({ kind: 'http', url: srv.url })), { ok: false, attempts: 1, error: { code: RelayErrorCode.HTTP_STATUS } });
  t.equal(srv.hits.length, 1);
});

t.test('a relay that takes the request and never answers: the try times out and is not repeated (it may have pulsed); the open fails', async (t) => {
  const srv = await relayServer(t, () => null);
  const ctl = new BarrierController({ budgetMs: 5000, retryDelayMs: 10 });
  t.teardown(() => ctl.close());
  const res = await ctl.open('p', barrier({ kind: 'http', url: srv.url, timeout_ms: 150 }));
  t.match(res, { ok: false, attempts: 1, error: { code: RelayErrorCode.TIMEOUT, message: /not repeated/ } });
  t.equal(srv.hits.length, 1, 'one request: a second pulse could close a toggle gate on the car');
});

t.test('a relay that never answers and a timeout longer than the budget: the deadline ends the open', async (t) => {
  const srv = await relayServer(t, () => null);
  const ctl = new BarrierController({ budgetMs: 400 });
  t.teardown(() => ctl.close());
  const started = Date.now();
  const res = await ctl.open('p', barrier({ kind: 'http', url: srv.url, timeout_ms: 10_000 }));
  t.match(res, { ok: false, attempts: 1, error: { code: RelayErrorCode.TIMEOUT } });
  t.ok(Date.now() - started < 10_000, 'resolved by the deadline, not by the request timeout');
});

t.test('a relay that refuses connections: RELAY_UNREACHABLE', async (t) => {
  // A port the OS just handed out and that was closed again: nothing listens on it.
  const free = await new Promise<number>((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const ctl = new BarrierController({ retryDelayMs: 10 });
  t.teardown(() => ctl.close());
  t.match(await ctl.open('p', barrier({ kind: 'http', url: `http://127.0.0.1:${free}/` })), { ok: false, attempts: 3, error: { code: RelayErrorCode.UNREACHABLE } });
});

t.test('idempotent per pass: the same pass opens once, whatever the timing; another pass or barrier opens again', async (t) => {
  const srv = await relayServer(t, () => 200);
  const ctl = new BarrierController();
  t.teardown(() => ctl.close());
  const gate = barrier({ kind: 'http', url: `${srv.url}/a` });
  const [r1, r2] = await Promise.all([ctl.open('pass-1', gate), ctl.open('pass-1', gate)]);
  t.same(r1, r2, 'the second call gets the first result');
  t.equal(srv.hits.length, 1, 'one request for two concurrent calls');
  t.same(await ctl.open('pass-1', gate), r1, 'a later call too');
  t.equal(srv.hits.length, 1);
  await ctl.open('pass-2', gate);
  t.equal(srv.hits.length, 2, 'another pass opens again');
  await ctl.open('pass-1', { ...gate, id: 'gate-2' });
  t.equal(srv.hits.length, 3, 'the same pass through another barrier opens that one');
});

t.test('a failed pass is not tried again either (nothing opens twice for one pass)', async (t) => {
  let status = 500;
  const srv = await relayServer(t, () => status);
  const ctl = new BarrierController({ tries: 2, retryDelayMs: 10 });
  t.teardown(() => ctl.close());
  const gate = barrier({ kind: 'http', url: srv.url });
  const first = await ctl.open('pass-1', gate);
  status = 200;
  t.same(await ctl.open('pass-1', gate), first);
  t.equal(srv.hits.length, 2);
});

t.test('the oldest passes are forgotten beyond rememberPasses (memory stays bounded)', async (t) => {
  const srv = await relayServer(t, () => 200);
  const ctl = new BarrierController({ rememberPasses: 2 });
  t.teardown(() => ctl.close());
  const gate = barrier({ kind: 'http', url: srv.url });
  for (const p of ['p1', 'p2', 'p3']) await ctl.open(p, gate);
  await ctl.open('p3', gate);
  t.equal(srv.hits.length, 3, 'p3 remembered');
  await ctl.open('p1', gate);
  t.equal(srv.hits.length, 4, 'p1 forgotten');
});

t.test('no relay, a bad config or a sensor that is no barrier: a failed result with a code, nothing sent', async (t) => {
  const ctl = new BarrierController();
  t.teardown(() => ctl.close());
  t.match(await ctl.open('p', { id: 'gate', type: 'barrier', config: {} }), { ok: false, attempts: 0, sent_at: null, error: { code: RelayErrorCode.NOT_CONFIGURED } });
  const bad = await ctl.open('p', { id: 'gate-2', type: 'barrier', config: { relay: { kind: 'http', url: 'ftp://x' } } });
  t.match(bad, { ok: false, attempts: 0, error: { code: RelayErrorCode.CONFIG_INVALID } });
  t.match(bad.error!.message, /config\.relay\.url/);
  t.match(await ctl.open('p', { id: 'tyres', type: 'tpms', config: { relay_pin: 4 } }), { ok: false, error: { code: RelayErrorCode.CONFIG_INVALID, message: /not a barrier/ } });
  await ctl.close();
  t.match(await ctl.open('later', { id: 'gate', config: { relay_pin: 4 } }), { ok: false, error: { code: RelayErrorCode.CLOSED } });
});

t.test('credentials never reach a message or a log line', async (t) => {
  const srv = await relayServer(t, () => 500);
  const lines: string[] = [];
  const log = createLogger({ level: 'debug', format: 'json', destination: { write: (s: string) => lines.push(s) } });
  const ctl = new BarrierController({ log, tries: 2, retryDelayMs: 10 });
  t.teardown(() => ctl.close());
  const url = new URL(srv.url);
  const res = await ctl.open('p', barrier({ kind: 'http', url: `http://relayuser:url-secret@${url.host}/x?token=query-secret`, auth: { type: 'bearer', token: 'bearer-secret' }, headers: { 'X-Api-Key': 'header-secret' } }));
  t.equal(res.ok, false);
  t.equal(srv.hits[0]!.headers['x-api-key'], 'header-secret', 'the secrets were sent');
  const text = JSON.stringify(res) + lines.join('');
  t.ok(lines.length > 0, 'the failure was logged');
  for (const s of ['url-secret', 'query-secret', 'bearer-secret', 'header-secret']) t.notMatch(text, s, `${s} not in the result or the log`);
});

t.test("the older hook's url shorthand is an http relay (POST)", async (t) => {
  const srv = await relayServer(t, () => 200);
  const ctl = new BarrierController();
  t.teardown(() => ctl.close());
  t.match(await ctl.open('p', { id: 'gate', type: 'barrier', config: { url: `${srv.url}/old`, headers: { 'x-k': 'v' } } }), { ok: true });
  t.match(srv.hits[0], { method: 'POST', path: '/old', headers: { 'x-k': 'v' } });
});

t.test('a driver that ignores the abort still cannot hold an open past its deadline', async (t) => {
  // Every real driver stops at the abort; this one never settles, as a driver bug would.
  let pulses = 0;
  const ctl = new BarrierController({
    budgetMs: 200,
    relayFactory: () => ({ pulse: () => (pulses++, new Promise<void>(() => {})), close: async () => {} }),
  });
  t.teardown(() => ctl.close());
  const res = await ctl.open('p', barrier({ kind: 'http', url: 'http://127.0.0.1:9/' }));
  t.match(res, { ok: false, attempts: 1, error: { code: RelayErrorCode.TIMEOUT } });
  t.equal(pulses, 1);
});

t.test('close() while an open waits its turn: the waiting open fails with RELAY_CLOSED and close() returns', async (t) => {
  let finish!: () => void;
  let pulses = 0;
  const ctl = new BarrierController({
    relayFactory: () => ({ pulse: () => (pulses++, new Promise<void>((r) => (finish = r))), close: async () => {} }),
  });
  const gate = barrier({ kind: 'http', url: 'http://127.0.0.1:9/' });
  const first = ctl.open('p1', gate);
  const second = ctl.open('p2', gate); // queued behind p1 on the same relay
  await waitFor(() => pulses === 1, 'the first pulse to start');
  const closing = ctl.close();
  finish();
  t.match(await first, { ok: true });
  t.match(await second, { ok: false, attempts: 0, error: { code: RelayErrorCode.CLOSED } });
  await closing;
  t.equal(pulses, 1, 'the queued open pulsed nothing');
});
