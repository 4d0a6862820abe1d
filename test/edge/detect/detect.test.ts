import t from 'tap';
import { dbBoxes, decodeFastestDet, iou, nms, joinLinePieces, isPlateShaped, colorName, vehicleColor, TextPlateLocator, FastestDetVehicleDetector } from '../../../edge/detect/index.js';
import { InferenceHost } from '../../../edge/inference/index.js';
import { ModelStore } from '../../../edge/inference/model-store.js';
import { FASTESTDET_MODEL, renderScene } from '../recognize/fixtures.js';

t.test('box geometry and NMS', async (t) => {
  const a = { x: 0, y: 0, width: 10, height: 10 };
  t.equal(iou(a, a), 1);
  t.equal(iou(a, { x: 20, y: 0, width: 5, height: 5 }), 0);
  t.ok(Math.abs(iou(a, { x: 5, y: 0, width: 10, height: 10 }) - 50 / 150) < 1e-9);
  const kept = nms([{ box: a, score: 0.5 }, { box: { x: 1, y: 0, width: 10, height: 10 }, score: 0.9 }, { box: { x: 50, y: 50, width: 5, height: 5 }, score: 0.1 }], 0.5);
  t.same(kept.map((k) => k.score), [0.9, 0.1]);
  t.ok(isPlateShaped({ x: 0, y: 0, width: 120, height: 30 }, 1000, 800));
  t.notOk(isPlateShaped({ x: 0, y: 0, width: 30, height: 30 }, 1000, 800), 'square');
  t.notOk(isPlateShaped({ x: 0, y: 0, width: 900, height: 200 }, 1000, 800), 'too wide for the image');
});

t.test('DB post-processing: components, scores, unclip', async (t) => {
  const W = 40;
  const H = 20;
  const map = new Float32Array(W * H);
  for (let y = 5; y < 9; y++) for (let x = 4; x < 20; x++) map[y * W + x] = 0.9; // a text kernel 16×4
  for (let y = 14; y < 16; y++) for (let x = 30; x < 32; x++) map[y * W + x] = 0.4; // faint blob, below boxThresh
  map[0] = 0.95; // a single noisy pixel
  const boxes = dbBoxes(map, W, H);
  t.equal(boxes.length, 1);
  const b = boxes[0].box;
  const d = (16 * 4 * 1.5) / (2 * 20);
  t.ok(Math.abs(b.x - (4 - d)) < 1e-9 && Math.abs(b.width - (16 + 2 * d)) < 1e-9, 'grown by area·ratio/perimeter');
  t.ok(Math.abs(boxes[0].score - 0.9) < 1e-6);
});

t.test('pieces of one text line are joined, other lines are not', async (t) => {
  const joined = joinLinePieces([
    { box: { x: 0, y: 0, width: 60, height: 30 }, score: 0.9 },
    { box: { x: 70, y: 2, width: 50, height: 28 }, score: 0.8 },
    { box: { x: 0, y: 60, width: 60, height: 30 }, score: 0.9 },
  ]);
  t.equal(joined.length, 1);
  t.same(joined[0].box, { x: 0, y: 0, width: 120, height: 30 });
  t.equal(joined[0].score, 0.8);
  // The unclipped boxes of the demo's "KXR" and "482" overlap by half a character: still one plate.
  const overlapping = joinLinePieces([
    { box: { x: 68, y: 409, width: 91, height: 32 }, score: 0.9 },
    { box: { x: 142, y: 409, width: 71, height: 33 }, score: 0.9 },
  ]);
  t.same(overlapping.map((j) => j.box), [{ x: 68, y: 409, width: 145, height: 33 }]);
});

t.test('FastestDet grid decoding keeps vehicles only', async (t) => {
  const C = 85;
  const G = 4;
  const data = new Float32Array(C * G * G);
  const set = (c: number, gy: number, gx: number, v: number) => (data[c * G * G + gy * G + gx] = v);
  // A car centred in cell (1,2): offsets 0, size sigmoid(0)=0.5 of the image.
  set(0, 1, 2, 0.9);
  set(5 + 2, 1, 2, 0.95);
  // A confident person (class 0) must be ignored.
  set(0, 3, 3, 0.9);
  set(5 + 0, 3, 3, 0.99);
  const v = decodeFastestDet(data, C, G, G, 400, 400, 0.5, 0.45);
  t.equal(v.length, 1);
  t.equal(v[0].type, 'car');
  t.same(v[0].box, { x: 100, y: 0, width: 200, height: 200 });
});

t.test('colour names', async (t) => {
  t.equal(colorName(250, 250, 250), 'white');
  t.equal(colorName(10, 10, 12), 'black');
  t.equal(colorName(200, 20, 20), 'red');
  t.equal(colorName(20, 40, 200), 'blue');
  t.equal(colorName(90, 90, 92), 'gray');
  t.equal(colorName(160, 160, 165), 'silver');
  const scene = await renderScene('ABC123', { body: '#1838b0' });
  const c = await vehicleColor(scene.image, { x: 100, y: 80, width: 760, height: 360 });
  t.equal(c.color, 'blue');
  t.ok(c.confidence > 0.5);
});

t.test('the PP-OCRv4 text detector finds a rendered plate and only plate-shaped boxes', async (t) => {
  const host = new InferenceHost();
  t.teardown(() => host.close());
  const store = await ModelStore.open();
  const loc = new TextPlateLocator(host, await store.require('ppocr-det'));
  await loc.load();
  const scene = await renderScene('KXR 482', { plateX: 600, plateY: 100 });
  const found = await loc.locate(scene.image);
  t.ok(found.some((r) => iou(r.box, scene.plate) > 0.4), 'the plate is found');
  t.ok(found.every((r) => r.box.width / r.box.height >= 1.5));
  const roi = await loc.locate(scene.image, [{ x: 0, y: 300, width: 960, height: 240 }]);
  t.notOk(roi.some((r) => iou(r.box, scene.plate) > 0.4), 'outside the region of interest, not searched');
});

t.test('FastestDet (shipped in models/)', async (t) => {
  const host = new InferenceHost();
  t.teardown(() => host.close());
  const det = new FastestDetVehicleDetector(host, FASTESTDET_MODEL);
  await det.load();
  const scene = await renderScene('KXR 482');
  const v = await det.detect(scene.image);
  t.ok(Array.isArray(v));
  for (const x of v) t.ok(['car', 'bus', 'truck', 'motorcycle'].includes(x.type));
});

t.test('a dedicated plate-detector model: letterbox in, boxes back in image pixels', async (t) => {
  const { OnnxPlateDetector } = await import('../../../edge/detect/index.js');
  const { onnxModel } = await import('../recognize/fixtures.js');
  // A 64×64 detector whose output ignores the image: rows of (batch, x1, y1, x2, y2, class, score).
  const rows = [
    [0, 16, 24, 48, 32, 0, 0.9],
    [0, 0, 0, 8, 8, 0, 0.1], // below the threshold
  ];
  const model = onnxModel(
    [{ op: 'Identity', inputs: ['boxes'], outputs: ['out'] }],
    [['images', 'float', [1, 3, 64, 64]]],
    [['out', 'float', [2, 7]]],
    [{ name: 'boxes', dims: [2, 7], values: rows.flat() }],
  );
  const host = new InferenceHost();
  t.teardown(() => host.close());
  const det = new OnnxPlateDetector(host, model);
  await det.load();
  // A 128×64 image letterboxes into 64×32 at scale 0.5, padded 16 px above and below.
  const image = { width: 128, height: 64, data: Buffer.alloc(128 * 64 * 3, 90) };
  const found = await det.locate(image);
  t.equal(found.length, 1);
  t.same(found[0].box, { x: 32, y: 16, width: 64, height: 16 });
  t.equal(found[0].source, 'plate-detector');
});
