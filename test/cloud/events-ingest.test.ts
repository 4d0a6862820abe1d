import t from 'tap';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startTestCloud, makeJpeg, event } from './helpers.js';

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? walk(join(dir, d.name)) : [join(dir, d.name)]));
}

t.test('JSON ingest: 202, then 409 for the same event_id, and the event is served', async (t) => {
  const c = await startTestCloud(t);
  const r = await c.req('/events/ingest', { method: 'POST', key: c.apiKey, json: event('evt-1') });
  t.equal(r.status, 202);
  t.same(await r.json(), { id: 'evt-1', status: 'accepted', timestamp: '2023-12-15T14:30:45.123Z', message: 'Event queued for processing' });
  const dup = await c.req('/events/ingest', { method: 'POST', key: c.apiKey, json: event('evt-1', { plate_text: 'ZZZ999' }) });
  t.equal(dup.status, 409);
  const body = await dup.json();
  t.equal(body.detail, 'Event with ID evt-1 already exists');
  t.equal(body.error_code, 'DUPLICATE_RESOURCE');
  t.match(body.request_id, /^req-/);
  const got = await (await c.req('/events/evt-1', { token: c.adminToken })).json();
  t.equal(got.plate_text, 'ABC123', 'the duplicate did not overwrite the original');
  t.same(got.raw_candidates, [{ text: 'ABC123', confidence: 0.95, model: 'paddle-ocr' }]);
  t.equal(got.metadata.processing_time_ms, 245);
  t.equal(got.frame_url, null);
});

t.test('the contract minimal multipart example works: images stored under server-chosen names and served back', async (t) => {
  const c = await startTestCloud(t);
  const frame = makeJpeg('160x120');
  const crop = makeJpeg('32x16');
  const fd = new FormData();
  fd.set('event', JSON.stringify({ event_id: 'evt-001', plate_text: 'ABC123' }));
  fd.set('frame', new Blob([new Uint8Array(frame)], { type: 'image/jpeg' }), '../../etc/passwd');
  fd.set('crop', new Blob([new Uint8Array(crop)], { type: 'image/jpeg' }), 'crop.jpg');
  const r = await c.req('/events/ingest', { method: 'POST', key: c.apiKey, body: fd });
  t.equal(r.status, 202);
  const ev = await (await c.req('/events/evt-001', { token: c.adminToken })).json();
  t.equal(ev.frame_url, '/events/evt-001/frame', 'relative without a public URL');
  const f = await c.req('/events/evt-001/frame', { token: c.adminToken });
  t.equal(f.status, 200);
  t.equal(f.headers.get('content-type'), 'image/jpeg');
  t.same(Buffer.from(await f.arrayBuffer()), frame, 'frame bytes round-trip');
  const cr = await c.req('/events/evt-001/crop', { key: c.apiKey });
  t.same(Buffer.from(await cr.arrayBuffer()), crop, 'crop bytes round-trip, API key accepted');
  t.equal((await fetch(`${c.url}/events/evt-001/frame`)).status, 401, 'images need authentication');
  const files = walk(join(c.dataDir, 'images'));
  t.equal(files.length, 2);
  for (const f of files) t.match(f, /\/\d{4}\/\d{2}\/\d{2}\/evt-001-(frame|crop)-[0-9a-f]{8}\.jpg$/, 'name derived by the server');
});

t.test('bad input: 400 names each bad field and nothing is stored', async (t) => {
  const c = await startTestCloud(t);
  const r = await c.req('/events/ingest', {
    method: 'POST',
    key: c.apiKey,
    json: { event_id: '../etc', confidence: 1.5, timestamp: 'yesterday', raw_candidates: [{ text: 'A' }], surprise: true },
  });
  t.equal(r.status, 400);
  const b = await r.json();
  t.equal(b.detail, 'Invalid event data');
  t.equal(b.error_code, 'VALIDATION_ERROR');
  const fields = b.errors.map((e: { field: string }) => e.field);
  for (const f of ['event_id', 'plate_text', 'confidence', 'timestamp', 'raw_candidates.0.confidence', 'raw_candidates.0.model', 'surprise']) t.ok(fields.includes(f), `${f} named`);
  t.ok(b.errors.some((e: { message: string }) => e.message === 'plate_text is required'));

  const malformed = await c.req('/events/ingest', { method: 'POST', key: c.apiKey, headers: { 'content-type': 'application/json' }, body: '{"event_id":' });
  t.equal(malformed.status, 400);
  t.equal((await malformed.json()).error_code, 'INVALID_REQUEST');

  const xml = await c.req('/events/ingest', { method: 'POST', key: c.apiKey, headers: { 'content-type': 'text/xml' }, body: '<e/>' });
  t.equal(xml.status, 415);

  const fd = new FormData();
  fd.set('event', JSON.stringify({ event_id: 'evt-bad-image', plate_text: 'ABC123' }));
  fd.set('frame', new Blob([Buffer.from('GIF89a not really an image')]), 'frame.jpg');
  const badImg = await c.req('/events/ingest', { method: 'POST', key: c.apiKey, body: fd });
  t.equal(badImg.status, 400);
  t.same((await badImg.json()).errors, [{ field: 'frame', message: 'frame: must be a JPEG or PNG image' }]);

  const fd2 = new FormData();
  fd2.set('event', 'not json');
  const badEvent = await c.req('/events/ingest', { method: 'POST', key: c.apiKey, body: fd2 });
  t.equal(badEvent.status, 400);
  t.equal((await badEvent.json()).errors[0].field, 'event');

  const fd3 = new FormData();
  fd3.set('event', JSON.stringify({ event_id: 'evt-x', plate_text: 'A' }));
  fd3.set('extra', 'x');
  t.equal((await c.req('/events/ingest', { method: 'POST', key: c.apiKey, body: fd3 })).status, 400, 'unknown form field');

  t.equal(await c.ctx.events.countAll(), 0, 'no event stored');
  t.same(walk(join(c.dataDir, 'images')), [], 'no image stored');
});

t.test('size limits: an image over the limit is 413 and nothing is stored', async (t) => {
  const c = await startTestCloud(t, { maxImageBytes: 4096 });
  const big = Buffer.concat([makeJpeg('64x48'), Buffer.alloc(8192)]);
  const fd = new FormData();
  fd.set('event', JSON.stringify({ event_id: 'evt-big', plate_text: 'ABC123' }));
  fd.set('crop', new Blob([new Uint8Array(big)]), 'crop.jpg');
  const r = await c.req('/events/ingest', { method: 'POST', key: c.apiKey, body: fd });
  t.equal(r.status, 413);
  t.equal((await r.json()).error_code, 'PAYLOAD_TOO_LARGE');
  const huge = await c.req('/events/ingest', { method: 'POST', key: c.apiKey, json: event('evt-huge', { metadata: { blob: 'x'.repeat(70_000) } }) });
  t.equal(huge.status, 413, 'body over the request limit');
  const meta = await c.req('/events/ingest', { method: 'POST', key: c.apiKey, json: event('evt-meta', { metadata: { blob: 'x'.repeat(17_000) } }) });
  t.equal(meta.status, 400, 'metadata over 16 KiB');
  t.equal(await c.ctx.events.countAll(), 0);
});

t.test('ingest needs an API key or a JWT; a revoked key stops working', async (t) => {
  const c = await startTestCloud(t);
  t.equal((await c.req('/events/ingest', { method: 'POST', json: event('e1') })).status, 401);
  const bad = await c.req('/events/ingest', { method: 'POST', key: 'anpr_not-a-real-key-at-all', json: event('e1') });
  t.equal(bad.status, 401);
  t.equal((await bad.json()).detail, 'Invalid API key');
  t.equal((await c.req('/events/ingest', { method: 'POST', token: c.adminToken, json: event('e2') })).status, 202, 'JWT accepted');
  const { key, info } = await c.ctx.apiKeys.create('edge-2');
  t.equal((await c.req('/events/ingest', { method: 'POST', key, json: event('e3', { metadata: { edge_worker_id: 'edge-2' } }) })).status, 202);
  await c.ctx.apiKeys.revoke(info.id);
  t.equal((await c.req('/events/ingest', { method: 'POST', key, json: event('e4', { metadata: { edge_worker_id: 'edge-2' } }) })).status, 401);
});

t.test('concurrent ingests share commits and all land exactly once', async (t) => {
  const c = await startTestCloud(t);
  const ids = Array.from({ length: 200 }, (_, i) => `evt-c-${i}`);
  const statuses = await Promise.all(
    [...ids, ...ids.slice(0, 50)].map((id) => c.req('/events/ingest', { method: 'POST', key: c.apiKey, json: event(id) }).then((r) => r.status)),
  );
  t.equal(statuses.filter((s) => s === 202).length, 200);
  t.equal(statuses.filter((s) => s === 409).length, 50);
  t.equal(await c.ctx.events.countAll(), 200);
});
