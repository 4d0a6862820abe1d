import t from 'tap';
import { decodeSlots, meanOfGroups, FAST_PLATE_ALPHABET, ctcDecodePlate, classGroups, PaddleOcrReader, TesseractReader, FastPlateOcrReader } from '../../../edge/read/index.js';
import { InferenceHost } from '../../../edge/inference/index.js';
import { ModelStore } from '../../../edge/inference/model-store.js';
import { PLATE_ALPHABET } from '../../../shared/plate/index.js';
import { FAST_PLATE_OCR_MODEL, renderPlate } from '../recognize/fixtures.js';

t.test('fast-plate-ocr slots: argmax per slot, padding dropped, runner-ups kept', async (t) => {
  const slots = 4;
  const K = FAST_PLATE_ALPHABET.length;
  const probs = new Float32Array(slots * K);
  const put = (s: number, ch: string, p: number) => (probs[s * K + FAST_PLATE_ALPHABET.indexOf(ch)] = p);
  put(0, 'A', 0.9), put(0, '4', 0.1);
  put(1, '0', 0.6), put(1, 'O', 0.4);
  put(2, '7', 1);
  put(3, '_', 0.99);
  const [r] = decodeSlots(probs, 1, slots, K, FAST_PLATE_ALPHABET);
  t.equal(r.text, 'A07');
  t.equal(r.chars[1].alternatives?.[0].char, 'O');
  t.ok(Math.abs(r.confidence - Math.cbrt(0.9 * 0.6 * 1)) < 1e-6, 'geometric mean');
});

t.test('fast-plate-ocr reads each box at three paddings and averages their slots before decoding', async (t) => {
  // Two boxes × three crops, blocks of two values: each box's mean.
  const x = Float32Array.from([1, 0, 0, 1, 0.5, 0.5, /* box 2 */ 0.2, 0.8, 0.2, 0.8, 0.2, 0.8]);
  const m = meanOfGroups(x, 2, 3, 2);
  t.same([...m].map((v) => Math.round(v * 1000) / 1000), [0.5, 0.5, 0.2, 0.8]);
  t.equal(meanOfGroups(x, 6, 1, 2), x, 'one crop: nothing to average');
  // Two crops torn between 0 and O: the mean keeps the doubt as an alternative.
  const K = FAST_PLATE_ALPHABET.length;
  const crop = (p0: number) => {
    const a = new Float32Array(K);
    a[FAST_PLATE_ALPHABET.indexOf('0')] = p0;
    a[FAST_PLATE_ALPHABET.indexOf('O')] = 1 - p0;
    return a;
  };
  const both = new Float32Array(2 * K);
  both.set(crop(0.9), 0);
  both.set(crop(0.3), K);
  const [r] = decodeSlots(meanOfGroups(both, 1, 2, K), 1, 1, K, FAST_PLATE_ALPHABET);
  t.equal(r.text, '0');
  t.ok(Math.abs(r.chars[0].confidence - 0.6) < 1e-6);
  t.equal(r.chars[0].alternatives?.[0].char, 'O');
});

t.test('CTC decoding folds case variants and collapses repeats', async (t) => {
  const keys = ['a', 'A', 'b', '1', '-', '京'];
  const groups = classGroups(keys);
  const C = keys.length + 2;
  const steps: [number, number][] = [
    [1, 0.5], // 'a' 0.5 + 'A' 0.4 → A
    [1, 0.9], // A again: collapsed
    [0, 0.9], // blank
    [1, 0.9], // A: new character after a blank
    [5, 0.9], // '-': other, emits nothing
    [4, 0.9], // '1'
    [6, 0.9], // '京': other
  ];
  const probs = new Float32Array(steps.length * C);
  steps.forEach(([k, p], s) => {
    probs[s * C + k] = p;
    probs[s * C + (k === 1 ? 2 : 0)] += 1 - p;
  });
  const r = ctcDecodePlate(probs, steps.length, C, groups);
  t.equal(r.text, 'AA1');
  t.ok(r.chars[0].confidence >= 0.9, 'best step of a repeated character');
});

const store = await ModelStore.open();
const host = new InferenceHost();
t.teardown(() => host.close());

t.test('PP-OCRv4 reads rendered plates in one batch', async (t) => {
  const paddle = new PaddleOcrReader(host, await store.require('ppocr-rec'), { keysPath: await store.require('ppocr-keys') });
  await paddle.load();
  const a = await renderPlate('BX 4072');
  const reads = await paddle.read(a, [{ x: 0, y: 0, width: a.width, height: a.height }, { x: 0, y: 0, width: a.width / 2, height: a.height }]);
  t.equal(reads.length, 2);
  t.equal(reads[0].text, 'BX4072');
  t.equal(reads[0].chars.length, 6);
  t.ok(reads[0].confidence > 0.8);
  t.ok(reads[1].text.startsWith('BX'), 'the left half reads the left half');
  t.ok(PLATE_ALPHABET.includes(reads[0].chars[0].char));
});

t.test('tesseract reads a rendered plate from the local data (no download)', async (t) => {
  const tess = new TesseractReader();
  t.teardown(() => tess.dispose());
  await tess.load();
  const a = await renderPlate('HTK 519');
  const [r] = await tess.read(a, [{ x: 0, y: 0, width: a.width, height: a.height }]);
  t.equal(r.engine, 'tesseract');
  t.equal(r.text, 'HTK519');
  t.ok(r.chars.every((c) => c.confidence >= 0 && c.confidence <= 1));
});

t.test('fast-plate-ocr reads rendered plates', async (t) => {
  const cct = new FastPlateOcrReader(host, FAST_PLATE_OCR_MODEL);
  await cct.load();
  const a = await renderPlate('MK 3301');
  const reads = await cct.read(a, [{ x: 0, y: 0, width: a.width, height: a.height }]);
  t.equal(reads[0].text, 'MK3301');
  t.ok(reads[0].chars.every((c) => Array.isArray(c.alternatives)));
});
