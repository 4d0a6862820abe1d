/**
 * Amplification through POST /recognize (issue 11, item 9): a small file claiming 16000×16000
 * pixels made the cloud decode 768 MB, and uploads queued without bound. The pixel limit is
 * read from the header before any decoding (413), and the line is bounded (429 + Retry-After).
 */
process.env.ANPR_RECOGNIZE_QUEUE = '2';

import t from 'tap';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { startTestCloud, makeJpeg } from './helpers.js';

const ROOT = resolve(import.meta.dirname, '../..');
const MIRROR = resolve(ROOT, '../shared/models');
const PIPELINE = resolve(ROOT, 'edge/recognize/index.ts');

/** A real small JPEG whose frame header (SOF) claims `width`×`height`. */
function jpegClaiming(width: number, height: number): Buffer {
  const jpeg = Buffer.from(makeJpeg('64x48'));
  for (let i = 2; i < jpeg.length - 9; ) {
    if (jpeg[i] !== 0xff) throw new Error('not a marker');
    const marker = jpeg[i + 1]!;
    const len = jpeg.readUInt16BE(i + 2);
    if (marker >= 0xc0 && marker <= 0xc3) {
      jpeg.writeUInt16BE(height, i + 5);
      jpeg.writeUInt16BE(width, i + 7);
      return jpeg;
    }
    i += 2 + len;
  }
  throw new Error('no SOF marker');
}

t.test('an image past the pixel limit is refused from its header, before any model or decode', async (t) => {
  const c = await startTestCloud(t);
  const viewer = await c.addUser('vic', 'viewer-pass', 'viewer');
  for (const [w, h] of [[16000, 16000], [8000, 6000]] as const) {
    const body = jpegClaiming(w, h);
    t.ok(body.length < 10_000, `a ${body.length}-byte file`);
    const r = await c.req('/recognize', { method: 'POST', token: viewer, headers: { 'content-type': 'image/jpeg' }, body: new Uint8Array(body) });
    t.equal(r.status, 413, `${w}×${h} refused`);
    t.match(await r.json(), { error_code: 'PAYLOAD_TOO_LARGE', detail: new RegExp(`${w}×${h}.*limit is 40 MP`), max_pixels: 40_000_000 });
  }
  const fd = new FormData();
  fd.set('image', new Blob([new Uint8Array(jpegClaiming(16000, 16000))], { type: 'image/jpeg' }), 'x.jpg');
  const multipart = await c.req('/recognize', { method: 'POST', token: viewer, body: fd });
  t.equal(multipart.status, 413, 'multipart too');
});

const why = !existsSync(PIPELINE) ? 'no recognition pipeline in this checkout' : false;

t.test('recognitions wait in a bounded line: 429 with Retry-After beyond it, every accepted one answered', { skip: why }, async (t) => {
  const c = await startTestCloud(t, { modelsMirror: existsSync(MIRROR) ? MIRROR : undefined });
  const viewer = await c.addUser('vic', 'viewer-pass', 'viewer');
  // Any picture goes through every stage; a generated one keeps the test free of the dev photos.
  const photo = new Uint8Array(makeJpeg('1280x720'));
  const send = () => c.req('/recognize', { method: 'POST', token: viewer, headers: { 'content-type': 'image/jpeg' }, body: photo });
  const warm = await send();
  t.equal(warm.status, 200, 'the pipeline loads and reads one photo');
  await warm.arrayBuffer();

  const answers = await Promise.all(Array.from({ length: 8 }, async () => {
    const r = await send();
    return { status: r.status, retryAfter: r.headers.get('retry-after'), body: (await r.json()) as { error_code?: string; plates?: unknown[] } };
  }));
  const ok = answers.filter((a) => a.status === 200);
  const busy = answers.filter((a) => a.status === 429);
  t.equal(ok.length + busy.length, answers.length, `only 200 or 429 (${answers.map((a) => a.status).join(',')})`);
  t.ok(ok.length >= 2, 'the running one and the waiting one are answered');
  t.ok(busy.length >= 1, 'the rest are refused at once, not queued');
  for (const b of busy) t.match(b, { retryAfter: /^\d+$/, body: { error_code: 'CONCURRENCY_LIMIT_EXCEEDED' } });
  for (const o of ok) t.type(o.body.plates, Array);
  const after = await send();
  t.equal(after.status, 200, 'the line empties: a later image is read');
  await after.arrayBuffer();
});
