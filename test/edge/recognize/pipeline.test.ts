import t from 'tap';
import { PlatePipeline } from '../../../edge/recognize/pipeline.js';
import type { PlateLocator } from '../../../edge/detect/types.js';
import type { EngineRead, PlateReader } from '../../../edge/read/types.js';
import type { RgbImage } from '../../../edge/inference/image.js';
import type { Box } from '../../../edge/contracts.js';
import { regionsById } from '../../../shared/plate/index.js';

/** Stages that need no model: a locator returning fixed boxes, readers returning fixed texts. */
const locator = (boxes: Box[]): PlateLocator => ({
  name: 'fixed',
  async load() {},
  async locate() {
    return boxes.map((box) => ({ box, score: 0.9, source: 'fixed' }));
  },
  async dispose() {},
});
const reader = (name: string, texts: string[], conf = 0.9, fail = false): PlateReader & { calls: number[] } => ({
  name,
  calls: [],
  async load() {},
  async read(_img: RgbImage, boxes: Box[]): Promise<EngineRead[]> {
    this.calls.push(boxes.length);
    if (fail) throw new Error(`${name} crashed`);
    return boxes.map((_, i) => ({ engine: name, text: texts[i] ?? '', confidence: conf, chars: [...(texts[i] ?? '')].map((char) => ({ char, confidence: conf })) }));
  },
  async dispose() {},
});
const image: RgbImage = { width: 400, height: 300, data: Buffer.alloc(400 * 300 * 3) };

t.test('regions are ranked by the first engine; the others read the best only; tesseract the best one', async (t) => {
  const boxes = [
    { x: 10, y: 10, width: 80, height: 20 }, // small text: a sticker
    { x: 100, y: 150, width: 160, height: 40 }, // the plate: tallest, read confidently
    { x: 300, y: 250, width: 60, height: 20 },
  ];
  const fast = reader('fast-plate-ocr', ['2014', 'ABC123', 'XY'], 0.95);
  const paddle = reader('paddle-ocr', ['ABC123', '2014']);
  const tess = reader('tesseract', ['ABC123']);
  const p = new PlatePipeline({ locator: locator(boxes), readers: [fast, paddle, tess] }, { regions: regionsById(['lt']) });
  const r = await p.analyze(image);
  t.same(fast.calls, [3], 'the plate reader reads every region, in one batch');
  t.same(paddle.calls, [2], 'PP-OCR reads the two best');
  t.same(tess.calls, [1], 'tesseract reads the best one');
  t.equal(r.plates[0].plateText, 'ABC123');
  t.equal(r.plates[0].format, 'lt');
  t.same(r.plates[0].box, boxes[1]);
  t.same(r.plates[0].rawCandidates.map((c) => c.model), ['fast-plate-ocr', 'paddle-ocr', 'tesseract']);
});

t.test('a failing secondary engine costs its vote, not the frame', async (t) => {
  const warnings: unknown[] = [];
  const logger = { warn: (o: unknown) => warnings.push(o) } as unknown as import('../../../shared/log.js').Logger;
  const p = new PlatePipeline(
    { locator: locator([{ x: 100, y: 150, width: 160, height: 40 }]), readers: [reader('fast-plate-ocr', ['KLM456']), reader('tesseract', [], 0.9, true)] },
    { regions: [], logger },
  );
  const r = await p.analyze(image);
  t.equal(r.plates[0].plateText, 'KLM456');
  t.same(r.plates[0].rawCandidates.map((c) => c.model), ['fast-plate-ocr']);
  await p.analyze(image);
  t.equal(warnings.length, 1, 'logged once, not per frame');
});

t.test('reads too short or too doubtful are not plates', async (t) => {
  const p = new PlatePipeline({ locator: locator([{ x: 100, y: 150, width: 160, height: 40 }]), readers: [reader('fast-plate-ocr', ['AB'])] }, { regions: [] });
  t.same((await p.analyze(image)).plates, []);
});
