/**
 * Export storm (issue 11, item 1): one viewer opening CSV exports by the hundred froze the
 * whole service. Exports are capped per user and in total (429 in the contract's body, with
 * Retry-After), a client that goes away frees its slot, and an export still streams every row.
 */
process.env.ANPR_EXPORTS_PER_USER = '2';
process.env.ANPR_EXPORTS_TOTAL = '3';

import t from 'tap';
import { connect } from 'node:net';
import { once } from 'node:events';
import { startTestCloud, type TestCloud } from './helpers.js';
import type { EventRow } from '../../cloud/store/events-store.js';

const N = 3000;
/** A long candidate list: ~4 KB a CSV row, 12 MB an export, more than an unread socket's buffers hold. */
const CANDIDATES = Array.from({ length: 80 }, (_, k) => ({ text: `AB${k}CD${k}`, confidence: 0.5, model: 'fast-plate-ocr' }));

async function seed(c: TestCloud): Promise<void> {
  const base = Date.parse('2024-01-01T00:00:00Z');
  const rows: Array<Promise<unknown>> = [];
  for (let i = 0; i < N; i++) {
    const row: EventRow = {
      event_id: `evt-${String(i).padStart(5, '0')}`,
      ts: base + i * 1000,
      camera_id: 'cam-001',
      zone_id: 'zone-a',
      plate_text: `AB${i}`,
      confidence: 0.9,
      processing_ms: 40,
      body: JSON.stringify({ raw_candidates: CANDIDATES, metadata: { edge_worker_id: 'edge-1' } }),
      frame_path: null,
      crop_path: null,
      created_at: base + i * 1000,
    };
    rows.push(c.ctx.events.insert(row));
  }
  await Promise.all(rows);
}

/**
 * Opens an export on a raw socket and stops reading once the headers are in: the kernel then
 * keeps the socket's small receive buffer (it grows only while the application reads), so the
 * server is held by back-pressure and the export stays open until the socket closes.
 */
async function openExport(c: TestCloud, token: string) {
  const socket = connect(c.port, '127.0.0.1');
  socket.write(`GET /events/export?format=csv HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\n\r\n`);
  let got = Buffer.alloc(0);
  const head = await new Promise<string>((resolve, reject) => {
    socket.on('error', reject);
    const onData = (d: Buffer) => {
      got = Buffer.concat([got, d]);
      const end = got.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      socket.pause();
      resolve(got.subarray(0, end).toString());
    };
    socket.on('data', onData);
  });
  const status = Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1]);
  const header = (name: string) => new RegExp(`^${name}: (.*)$`, 'im').exec(head)?.[1]?.trim() ?? null;
  const abort = () => socket.destroy();
  if (status === 200) return { status, abort };
  const length = Number(header('content-length'));
  let body = got.subarray(got.indexOf('\r\n\r\n') + 4);
  socket.resume();
  while (body.length < length) body = Buffer.concat([body, (await once(socket, 'data'))[0] as Buffer]);
  socket.destroy();
  return { status, body: JSON.parse(body.toString()), retryAfter: header('retry-after'), abort };
}

t.test('exports are capped per user and in total; a closed export frees its slot', async (t) => {
  const c = await startTestCloud(t);
  await seed(c);
  const viewer = await c.addUser('vera', 'viewer-pass', 'viewer');
  const other = await c.addUser('otto', 'viewer-pass', 'viewer');
  const third = await c.addUser('tess', 'viewer-pass', 'viewer');

  const a = await openExport(c, viewer);
  const b = await openExport(c, viewer);
  t.equal(a.status, 200);
  t.equal(b.status, 200);
  const refused = await openExport(c, viewer);
  t.equal(refused.status, 429, 'a third export by the same viewer is refused');
  t.match(refused.body, { error_code: 'CONCURRENCY_LIMIT_EXCEEDED', detail: /CSV exports/, retry_after_seconds: Number, request_id: /^req-/ });
  t.ok(Number(refused.retryAfter) >= 1, 'with Retry-After');

  const o = await openExport(c, other);
  t.equal(o.status, 200, 'another user still gets one');
  const overTotal = await openExport(c, third);
  t.equal(overTotal.status, 429, 'the total cap holds across users');

  const health = await c.req('/healthz');
  t.equal(health.status, 200, '/healthz answers while exports are open');

  // The client goes away: the server sees the socket close, cancels the stream, frees the slot.
  a.abort();
  let again = await openExport(c, viewer);
  for (let i = 0; again.status === 429 && i < 200; i++) {
    await new Promise((r) => setImmediate(r));
    again = await openExport(c, viewer);
  }
  t.equal(again.status, 200, 'the slot of an abandoned export comes back');
  for (const x of [b, o, again]) x.abort();
});

t.test('a capped export still streams every row, in order, and frees its slot at the end', async (t) => {
  const c = await startTestCloud(t);
  await seed(c);
  const viewer = await c.addUser('vera', 'viewer-pass', 'viewer');
  for (let round = 0; round < 3; round++) {
    const r = await c.req('/events/export?format=csv&sort_by=timestamp&sort_order=asc', { token: viewer });
    t.equal(r.status, 200, `export ${round + 1} (more than the cap of 2, one after another)`);
    const lines = (await r.text()).trimEnd().split('\r\n');
    t.equal(lines.length, N + 1, 'header + every row');
    t.match(lines[1], /^evt-00000,/);
    t.match(lines[N], /^evt-02999,/);
  }
});
