/**
 * Issue 9, events of an edge: ingested with a key they are that key's edge's; a body claiming
 * another edge, or another edge's camera, is refused with nothing stored; an edge's key fetches
 * only its own edge's images and streams only its own edge's events.
 */
import t, { type Test } from 'tap';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startTestCloud, event, makeJpeg, type TestCloud } from './helpers.js';
import { openStream as openStreamAt } from '../fixtures/stream-client.js';

const openStream = (c: TestCloud, query: string) => openStreamAt(c.url, query);

function walk(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? walk(join(dir, d.name)) : [join(dir, d.name)]));
  } catch {
    return [];
  }
}

async function site(t: Test, opts: Parameters<typeof startTestCloud>[1] = {}) {
  const c = await startTestCloud(t, opts);
  const keyA = c.apiKey; // edge-001
  const keyB = (await c.ctx.apiKeys.create('edge-002')).key;
  for (const [id, edge_id] of [
    ['cam-a', 'edge-001'],
    ['cam-b', 'edge-002'],
    ['cam-n', null],
  ] as const) {
    const r = await c.req('/config/cameras', { method: 'POST', token: c.adminToken, json: { id, name: id, rtsp_url: `rtsp://127.0.0.1/${id}`, edge_id } });
    if (r.status !== 201) throw new Error(await r.text());
  }
  return { c, keyA, keyB };
}

const jpeg = makeJpeg('64x48');

/** A multipart ingest with frame and crop, as an edge sends it. */
function withImages(c: TestCloud, key: string, body: Record<string, unknown>) {
  const fd = new FormData();
  fd.set('event', JSON.stringify(body));
  fd.set('frame', new Blob([new Uint8Array(jpeg)], { type: 'image/jpeg' }), 'frame.jpg');
  fd.set('crop', new Blob([new Uint8Array(jpeg)], { type: 'image/jpeg' }), 'crop.jpg');
  return c.req('/events/ingest', { method: 'POST', key, body: fd });
}

async function storedEvents(c: TestCloud): Promise<string[]> {
  const page = await (await c.req('/events', { token: c.adminToken })).json();
  return page.items.map((e: { id: string }) => e.id);
}

t.test('ingest claiming another edge: 403, no row, no image, nothing streamed', async (t) => {
  const { c, keyA } = await site(t);
  const admin = await openStream(c, `token=${c.adminToken}`);
  t.teardown(() => admin.ws.close());
  const r = await withImages(c, keyA, event('evt-claim', { camera_id: 'cam-a', metadata: { edge_worker_id: 'edge-002' } }));
  t.equal(r.status, 403);
  const body = await r.json();
  t.equal(body.error_code, 'FORBIDDEN');
  t.match(body.detail, /edge-001/);
  const json = await c.req('/events/ingest', { method: 'POST', key: keyA, json: event('evt-claim2', { camera_id: 'cam-n', metadata: { edge_worker_id: 'edge-002' } }) });
  t.equal(json.status, 403, 'JSON ingest likewise');
  t.same(await storedEvents(c), [], 'GET /events shows nothing stored');
  t.same(walk(join(c.dataDir, 'images')), [], 'no file in the image dir');
  // The same event from the right edge is accepted: the id was never taken.
  t.equal((await withImages(c, keyA, event('evt-claim', { camera_id: 'cam-a' }))).status, 202);
  t.same((await admin.next(1)).map((m) => m.data.id), ['evt-claim'], 'only the accepted event was streamed');
});

t.test("ingest of another edge's camera: 403, nothing stored; local and unassigned cameras accepted", async (t) => {
  const { c, keyA } = await site(t);
  const r = await withImages(c, keyA, event('evt-b', { camera_id: 'cam-b', metadata: {} }));
  t.equal(r.status, 403);
  t.match((await r.json()).detail, /cam-b/);
  t.same(await storedEvents(c), []);
  t.same(walk(join(c.dataDir, 'images')), []);
  for (const [id, camera_id] of [
    ['evt-local', 'cam-local-only'],
    ['evt-none', 'cam-n'],
    ['evt-nocam', null],
    ['evt-own', 'cam-a'],
  ] as const) {
    t.equal((await c.req('/events/ingest', { method: 'POST', key: keyA, json: event(id, { camera_id, metadata: { processing_time_ms: 5 } }) })).status, 202, id);
  }
  const got = await (await c.req('/events/evt-local', { token: c.adminToken })).json();
  t.same(got.metadata, { processing_time_ms: 5, edge_worker_id: 'edge-001' }, 'edge_worker_id set from the key when absent');
  // A user's ingest keeps today's behaviour: the body's edge is taken as given.
  const byUser = await c.req('/events/ingest', { method: 'POST', token: c.adminToken, json: event('evt-user', { camera_id: 'cam-b', metadata: { edge_worker_id: 'edge-001' } }) });
  t.equal(byUser.status, 202);
  t.equal((await (await c.req('/events/evt-user', { token: c.adminToken })).json()).metadata.edge_worker_id, 'edge-001');
});

t.test("an edge's key fetches only its own edge's images", async (t) => {
  const { c, keyA, keyB } = await site(t);
  t.equal((await withImages(c, keyB, event('evt-b', { camera_id: 'cam-b', metadata: { edge_worker_id: 'edge-002' } }))).status, 202);
  t.equal((await withImages(c, keyA, event('evt-a', { camera_id: 'cam-a', metadata: {} }))).status, 202);
  for (const kind of ['frame', 'crop']) {
    const other = await c.req(`/events/evt-b/${kind}`, { key: keyA });
    t.equal(other.status, 403, `another edge's ${kind}`);
    t.match(other.headers.get('content-type'), /application\/json/);
    const bytes = Buffer.from(await other.arrayBuffer());
    t.notOk(bytes.includes(jpeg.subarray(0, 64)), 'no image bytes');
    const own = await c.req(`/events/evt-b/${kind}`, { key: keyB });
    t.equal(own.status, 200, `own ${kind}`);
    t.same(Buffer.from(await own.arrayBuffer()), jpeg);
    t.equal((await c.req(`/events/evt-a/${kind}`, { key: keyA })).status, 200);
    t.equal((await c.req(`/events/evt-b/${kind}`, { token: c.adminToken })).status, 200, 'users see every image');
    t.equal((await c.req(`/events/evt-nope/${kind}`, { key: keyA })).status, 404);
  }
  // Event details and search stay user-only.
  t.equal((await c.req('/events/evt-b', { key: keyA })).status, 401);
  t.equal((await c.req('/events', { key: keyA })).status, 401);
});

t.test("an edge's key streaming another edge's camera gets nothing of it", async (t) => {
  const { c, keyA, keyB } = await site(t, { maxStreamsPerKey: 2 });
  const spy = await openStream(c, `api_key=${keyA}&camera_id=cam-b`);
  const own = await openStream(c, `api_key=${keyB}&camera_id=cam-b`);
  const admin = await openStream(c, `token=${c.adminToken}&camera_id=cam-b`);
  t.teardown(() => [spy, own, admin].forEach((s) => s.ws.close()));
  t.equal((await c.req('/events/ingest', { method: 'POST', key: keyB, json: event('evt-b1', { camera_id: 'cam-b', metadata: {} }) })).status, 202);
  t.same((await own.next(1)).map((m) => m.data.id), ['evt-b1']);
  // A marker the spy may see (an event of cam-b ingested by a user as edge-001's) closes the window.
  const marker = await c.req('/events/ingest', { method: 'POST', token: c.adminToken, json: event('evt-marker', { camera_id: 'cam-b', metadata: { edge_worker_id: 'edge-001' } }) });
  t.equal(marker.status, 202);
  t.same((await admin.next(2)).map((m) => m.data.id), ['evt-b1', 'evt-marker']);
  t.same((await spy.next(1)).map((m) => m.data.id), ['evt-marker'], "edge-002's event never reached edge-001's key");
  t.notOk(JSON.stringify(spy.messages).includes('evt-b1'));
});

