import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { startTestCloud, makeJpeg } from '../helpers.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const MIRROR = resolve(ROOT, '../shared/models');
const DATASET = resolve(ROOT, '../shared/datasets/openalpr-dev/endtoend/br');
const PIPELINE = resolve(ROOT, 'edge/recognize/index.ts');
const why = !existsSync(PIPELINE)
  ? 'the recognition pipeline (edge/recognize/index.ts) is not in this checkout'
  : !existsSync(DATASET)
    ? `needs the dev photos at ${DATASET}`
    : false;

t.test('POST /recognize: refuses what is not an image, without loading any model', async (t) => {
  const c = await startTestCloud(t);
  t.equal((await c.req('/recognize', { method: 'POST', body: new Uint8Array([0xff, 0xd8, 0xff]) })).status, 401);
  const wrongType = await c.req('/recognize', { method: 'POST', token: c.adminToken, headers: { 'content-type': 'text/plain' }, body: 'hello' });
  t.equal(wrongType.status, 415);
  t.match(await wrongType.json(), { error_code: 'UNSUPPORTED_MEDIA_TYPE', request_id: /^req-/ });
  const notImage = await c.req('/recognize', { method: 'POST', token: c.adminToken, headers: { 'content-type': 'image/jpeg' }, body: 'not a jpeg at all' });
  t.equal(notImage.status, 400);
  t.match(await notImage.json(), { error_code: 'VALIDATION_ERROR', errors: [{ field: 'image' }] });
  const fd = new FormData();
  fd.set('picture', new Blob([new Uint8Array(makeJpeg())]), 'x.jpg');
  const noField = await c.req('/recognize', { method: 'POST', token: c.adminToken, body: fd });
  t.equal(noField.status, 400);
  t.match(await noField.json(), { errors: [{ field: 'image' }] });
  const big = await c.req('/recognize', { method: 'POST', token: c.adminToken, headers: { 'content-type': 'image/jpeg' }, body: new Uint8Array(11 * 1024 * 1024) });
  t.equal(big.status, 413);
});

t.test('POST /recognize finds and reads the plate of a real photo with the edge pipeline', { skip: why }, async (t) => {
  const c = await startTestCloud(t, { modelsMirror: existsSync(MIRROR) ? MIRROR : undefined });
  const viewer = await c.addUser('vic', 'viewer-pass', 'viewer');
  const truth = 'AYO9034';
  const fd = new FormData();
  fd.set('image', new Blob([new Uint8Array(readFileSync(resolve(DATASET, `${truth}.jpg`)))], { type: 'image/jpeg' }), `${truth}.jpg`);
  const r = await c.req('/recognize', { method: 'POST', token: viewer, body: fd });
  t.equal(r.status, 200);
  const b = await r.json();
  t.ok(b.width > 0 && b.height > 0);
  t.ok(b.engines.length >= 1, `engines: ${b.engines.join(', ')}`);
  t.ok(b.plates.length >= 1, 'a plate was found');
  const best = b.plates[0];
  t.ok(best.box.x >= 0 && best.box.y >= 0 && best.box.x + best.box.width <= b.width && best.box.y + best.box.height <= b.height, 'its box lies inside the image');
  t.ok(best.raw_candidates.length >= 1 && best.raw_candidates.every((k: { model: string }) => b.engines.includes(k.model)), 'one read per engine, named');
  const norm = (s: string) => s.toUpperCase().replace(/[^A-Z0-9]/g, '');
  t.equal(norm(best.plate_text), truth, `consensus read ${best.plate_text}`);

  // The pipeline stays loaded: a PNG of the same photo gives the same read.
  const sharp = (await import('sharp')).default;
  const png = await sharp(readFileSync(resolve(DATASET, `${truth}.jpg`))).png().toBuffer();
  const r2 = await c.req('/recognize', { method: 'POST', token: viewer, headers: { 'content-type': 'image/png' }, body: new Uint8Array(png) });
  t.equal(r2.status, 200);
  t.equal(norm((await r2.json()).plates[0]?.plate_text ?? ''), truth);
});
