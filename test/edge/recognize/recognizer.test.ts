import t from 'tap';
import { createRecognizer, ENGINE_NAMES, type Frame } from '../../../edge/recognize/index.js';
import { renderScene } from './fixtures.js';

// Out of the box: the npm and project models only, no mirror, no models dir.
const rec = await createRecognizer({ modelsDir: '/nonexistent-models-dir', vehicles: false });
t.teardown(() => rec.dispose());

t.test('runs every engine out of the box (npm and project models)', async (t) => {
  t.same(rec.engines, ['fast-plate-ocr', 'paddle-ocr', 'tesseract']);
  t.equal(rec.vehicleDetector, undefined);
  t.same([...ENGINE_NAMES].sort(), ['fast-plate-ocr', 'paddle-ocr', 'tesseract']);
});

t.test('recognizeImage finds and reads a rendered plate', async (t) => {
  const scene = await renderScene('KXR 482');
  const r = await rec.recognizeImage(scene.png);
  t.equal(r.width, 960);
  t.ok(r.plates.length >= 1, 'a plate is found');
  const p = r.plates[0];
  t.equal(p.plateText, 'KXR482');
  t.ok(p.confidence > 0.5);
  const ix = Math.max(0, Math.min(p.box.x + p.box.width, scene.plate.x + scene.plate.width) - Math.max(p.box.x, scene.plate.x));
  t.ok(ix > scene.plate.width * 0.6, 'the box covers the plate');
  t.same(p.rawCandidates.map((c) => c.model), ['fast-plate-ocr', 'paddle-ocr', 'tesseract']);
  t.ok(Array.isArray(p.votes) && (p.votes as unknown[]).length === 6, 'votes per position');
  t.ok(r.timings.total > 0 && r.timings.read['paddle-ocr'] >= 0);
});

t.test('an undecodable image is a typed error', async (t) => {
  await t.rejects(rec.recognizeImage(Buffer.from('not an image')), { code: 'UNSUPPORTED_MEDIA_TYPE' });
});

t.test('a camera confirms one read per passing vehicle: at once when two frames agree, else on track close', async (t) => {
  const a = await renderScene('KXR 482');
  const b = await renderScene('KXR 482', { plateX: 380 });
  const empty = await renderScene('', { plateW: 10 });
  const frame = (img: typeof a.image, seq: number, ts: number, cameraId = 'cam-1'): Frame => ({ cameraId, seq, ts, width: img.width, height: img.height, data: img.data });
  const cam = rec.forCamera('cam-1', { regions: ['us'] });
  t.same(await cam.push(frame(a.image, 1, 1000)), [], 'one frame is not yet a decision');
  const confirmed = await cam.push(frame(b.image, 2, 1100));
  t.equal(confirmed.length, 1, 'the second agreeing frame confirms the track at once');
  const c = confirmed[0];
  t.equal(c.plateText, 'KXR482');
  t.equal(c.cameraId, 'cam-1');
  t.equal(c.frameCount, 2);
  t.equal(c.firstSeenTs, 1000);
  t.equal(c.lastSeenTs, 1100);
  t.ok(c.rawCandidates.some((x) => x.model === 'paddle-ocr' && x.text === 'KXR482'));
  t.same(await cam.push(frame(a.image, 3, 1200)), [], 'the same pass gives no second event');
  t.same(await cam.push(frame(empty.image, 4, 5000)), [], 'nor when it leaves');
  // The same plate again within the de-dup window is not a second event.
  await cam.push(frame(a.image, 5, 6000));
  t.same(cam.flush(), [], 'duplicate within the window');

  // Per-camera settings: with the early decision off the track is confirmed when it closes.
  const late = rec.forCamera('cam-late', { regions: ['us'], confirmFrames: 0 });
  t.same(await late.push(frame(a.image, 1, 1000, 'cam-late')), []);
  t.same(await late.push(frame(b.image, 2, 1100, 'cam-late')), [], 'no early decision on this camera');
  t.same((await late.push(frame(empty.image, 3, 5000, 'cam-late'))).map((r) => r.plateText), ['KXR482'], 'confirmed when the track closed');
  // A minimum plate height above this plate's: nothing is read.
  const far = rec.forCamera('cam-far', { regions: ['us'], minPlateHeight: 200 });
  await far.push(frame(a.image, 1, 1000, 'cam-far'));
  await far.push(frame(b.image, 2, 1100, 'cam-far'));
  t.same(far.flush(), [], 'plates lower than minPlateHeight are not read');
});

t.test('frames are never queued: only the latest waits while one is processed', async (t) => {
  const s = await renderScene('QMN 771');
  const frame = (seq: number): Frame => ({ cameraId: 'cam-q', seq, ts: seq * 100, width: s.image.width, height: s.image.height, data: s.image.data });
  const cam = rec.forCamera('cam-q');
  const order: number[] = [];
  const first = cam.push(frame(1)).then((r) => (order.push(1), r));
  const stale = cam.push(frame(2)).then((r) => (order.push(2), r));
  const latest = cam.push(frame(3)).then((r) => (order.push(3), r));
  t.same(await stale, [], 'the superseded frame resolves with nothing');
  await Promise.all([first, latest]);
  t.same(order, [2, 1, 3], 'the stale frame resolved before the busy one finished');
  const [read] = await latest;
  t.equal(read.plateText, 'QMN771', 'frames 1 and 3 agree: confirmed on frame 3');
  t.equal(read.frameCount, 2, 'frames 1 and 3 were processed, frame 2 was not');
});
