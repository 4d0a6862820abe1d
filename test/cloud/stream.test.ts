import t from 'tap';
import WebSocket from 'ws';
import { startTestCloud, event, type TestCloud } from './helpers.js';

function connect(c: TestCloud, query: string): Promise<{ ws: WebSocket; messages: any[]; next: (n?: number) => Promise<any[]> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${c.url.replace('http', 'ws')}/events/stream?${query}`);
    const messages: any[] = [];
    const waiters: Array<() => void> = [];
    ws.on('message', (d) => {
      messages.push(JSON.parse(d.toString()));
      waiters.splice(0).forEach((w) => w());
    });
    const next = async (n = 1) => {
      while (messages.length < n) await new Promise<void>((r) => waiters.push(r));
      return messages.slice(0, n);
    };
    ws.once('open', () => resolve({ ws, messages, next }));
    ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error('rejected'), { status: res.statusCode })));
    ws.once('error', reject);
  });
}

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
