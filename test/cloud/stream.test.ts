import t from 'tap';
import { openStream } from '../fixtures/stream-client.js';
import WebSocket from 'ws';
import { sign } from 'hono/jwt';
import { ONLY_SQLITE, startTestCloud, event, ADMIN_PASSWORD, type TestCloud } from './helpers.js';
import { CACHE_MS } from '../../cloud/auth/api-keys.js';

const connect = (c: TestCloud, query: string) => openStream(c.url, query);

/** The HTTP status that refused the upgrade (0 when it was accepted). */
async function refusal(c: TestCloud, query: string): Promise<number> {
  try {
    const s = await connect(c, query);
    s.ws.close();
    return 0;
  } catch (e) {
    return (e as { status?: number }).status ?? -1;
  }
}

const ingest = (c: TestCloud, id: string, extra: Record<string, unknown> = {}) =>
  c.req('/events/ingest', { method: 'POST', key: c.apiKey, json: event(id, extra) });

t.test('every accepted event reaches every matching subscriber; filters by camera and zone', async (t) => {
  const c = await startTestCloud(t, { maxStreamsPerKey: 2 });
  const all = await connect(c, `token=${c.adminToken}`);
  const cam2 = await connect(c, `token=${c.adminToken}&camera_id=cam-002`);
  const zoneX = await connect(c, `api_key=${c.apiKey}&zone_id=zone-x`);
  const both = await connect(c, `api_key=${c.apiKey}&camera_id=cam-002&zone_id=zone-x`);
  t.teardown(() => [all, cam2, zoneX, both].forEach((s) => s.ws.close()));

  await ingest(c, 'e1', { camera_id: 'cam-001', zone_id: 'zone-x' });
  await ingest(c, 'e2', { camera_id: 'cam-002', zone_id: 'zone-y' });
  await ingest(c, 'e3', { camera_id: 'cam-002', zone_id: 'zone-x' });
  await ingest(c, 'e3', { camera_id: 'cam-002', zone_id: 'zone-x' }); // duplicate: not re-broadcast

  const got = await all.next(3);
  t.same(got.map((m) => m.data.event_id), ['e1', 'e2', 'e3']);
  t.equal(got[0].type, 'event');
  t.match(got[0].data, { id: 'e1', plate_text: 'ABC123', camera_id: 'cam-001', zone_id: 'zone-x', confidence: 0.95, raw_candidates: [{ model: 'paddle-ocr' }] });
  t.same((await cam2.next(2)).map((m) => m.data.event_id), ['e2', 'e3']);
  t.same((await zoneX.next(2)).map((m) => m.data.event_id), ['e1', 'e3']);
  t.same((await both.next(1)).map((m) => m.data.event_id), ['e3']);
  // Nothing else arrives: a marker event that every stream sees closes the window.
  await ingest(c, 'marker', { camera_id: 'cam-002', zone_id: 'zone-x' });
  t.same((await cam2.next(3)).map((m) => m.data.event_id), ['e2', 'e3', 'marker']);
  t.same((await both.next(2)).map((m) => m.data.event_id), ['e3', 'marker']);
  t.equal(all.messages.length, 4);
});

t.test('stream auth: missing or bad credentials are refused before the upgrade; one connection per key', async (t) => {
  const c = await startTestCloud(t);
  t.equal(await refusal(c, ''), 401);
  t.equal(await refusal(c, 'token=not-a-jwt'), 401);
  t.equal(await refusal(c, 'api_key=anpr_wrong_key_value'), 401);
  t.equal(await refusal(c, `token=${c.adminToken}&camera_id=../x`), 400);
  const first = await connect(c, `api_key=${c.apiKey}`);
  t.teardown(() => first.ws.close());
  t.equal(await refusal(c, `api_key=${c.apiKey}`), 429, 'contract: 1 connection per edge');
  const plain = await fetch(`${c.url}/events/stream?token=${c.adminToken}`);
  t.equal(plain.status, 426, 'a plain GET is told to upgrade');
});

t.test('a subscriber that stops reading is disconnected instead of growing server memory', async (t) => {
  const c = await startTestCloud(t);
  const slow = await connect(c, `token=${c.adminToken}`);
  const fast = await connect(c, `token=${c.adminToken}`);
  t.teardown(() => [slow, fast].forEach((s) => s.ws.terminate()));
  // Stop reading from the socket: the server's send buffer fills up.
  (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
  const closed = new Promise<number>((r) => slow.ws.once('close', (code) => r(code)));
  const big = { blob: 'x'.repeat(15_000) };
  let i = 0;
  while (c.ctx.hub.dropped === 0 && i < 3000) {
    await Promise.all(Array.from({ length: 20 }, () => ingest(c, `big-${i++}`, { metadata: big })));
  }
  t.equal(c.ctx.hub.dropped, 1, 'the slow subscriber was dropped');
  t.equal(c.ctx.hub.count(), 1, 'the fast one stays');
  (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
  t.ok([1013, 1006].includes(await closed), 'closed as too slow (or cut)');
  await fast.next(i);
  t.equal(fast.messages.length, i, 'the fast subscriber received everything');
});

/** The close code and reason, or a failure when the server keeps the stream open too long. */
function closing(ws: WebSocket, withinMs: number): Promise<{ code: number; reason: string }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`stream still open after ${withinMs} ms`)), withinMs);
    ws.once('close', (code, reason) => {
      clearTimeout(timer);
      resolve({ code, reason: reason.toString() });
    });
  });
}

t.test('streams close (4401 + reason) when their credentials end', async (t) => {
  const c = await startTestCloud(t, { maxStreamsPerKey: 5 });
  // The bound: one re-check period (the key cache time) plus slack for a loaded machine.
  const bound = CACHE_MS * 3;

  t.test('API key revoked over HTTP: closed at once', async (t) => {
    const { key, info } = await c.ctx.apiKeys.create('gate-revoked');
    const s = await connect(c, `api_key=${key}`);
    const closed = closing(s.ws, bound);
    t.equal((await c.req(`/api-keys/${info.id}`, { method: 'DELETE', token: c.adminToken })).status, 204);
    t.same(await closed, { code: 4401, reason: 'API key revoked' });
  });

  t.test('API key revoked by another process (anpr apikey revoke): closed within the cache time', { skip: ONLY_SQLITE }, async (t) => {
    const { key, info } = await c.ctx.apiKeys.create('gate-cli');
    const s = await connect(c, `api_key=${key}`);
    const closed = closing(s.ws, bound);
    // What `anpr apikey revoke` does from its own process: a row update, no call into this one.
    c.ctx.database.sqlite!.db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ?').run(new Date().toISOString(), info.id);
    t.same(await closed, { code: 4401, reason: 'API key revoked' });
  });

  t.test('user disabled: closed', async (t) => {
    const tok = await c.addUser('watcher', 'watcher-password', 'viewer');
    const s = await connect(c, `token=${tok}`);
    const closed = closing(s.ws, bound);
    t.equal((await c.req('/users/watcher', { method: 'PATCH', token: c.adminToken, json: { disabled: true } })).status, 200);
    t.same(await closed, { code: 4401, reason: 'user disabled' });
  });

  t.test('password reset: closed', async (t) => {
    const tok = await c.addUser('reset-me', 'first-password', 'viewer');
    const s = await connect(c, `token=${tok}`);
    const closed = closing(s.ws, bound);
    t.equal((await c.req('/users/reset-me', { method: 'PATCH', token: c.adminToken, json: { password: 'second-password' } })).status, 200);
    t.same(await closed, { code: 4401, reason: 'credentials changed' });
  });

  t.test('signed out: the session\'s stream closes', async (t) => {
    const session = await (await c.req('/auth/login', { method: 'POST', json: { username: 'admin', password: ADMIN_PASSWORD } })).json();
    const s = await connect(c, `token=${session.access_token}`);
    const other = await connect(c, `token=${c.adminToken}`);
    t.teardown(() => other.ws.close());
    const closed = closing(s.ws, bound);
    t.equal((await c.req('/auth/logout', { method: 'POST', json: { refresh_token: session.refresh_token } })).status, 204);
    t.same(await closed, { code: 4401, reason: 'signed out' });
    await ingest(c, 'after-logout');
    t.equal((await other.next(1))[0].data.event_id, 'after-logout', 'a stream of another sign-in stays open');
  });

  t.test('token expired: closed within one re-check period of its exp', async (t) => {
    const now = Math.floor(Date.now() / 1000);
    const short = await sign({ sub: 'admin', role: 'admin', typ: 'access', iat: now, exp: now + 2, ver: 0 }, c.ctx.jwtSecret, 'HS256');
    const s = await connect(c, `token=${short}`);
    t.same(await closing(s.ws, 2000 + bound), { code: 4401, reason: 'token expired' });
  });
});
