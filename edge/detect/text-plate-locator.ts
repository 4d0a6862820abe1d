/**
 * The default plate locator: PP-OCRv4's text detector over each search area, filtered by
 * plate geometry. Plates are the text lines of a car with a plate's shape; pieces of one
 * plate split by a gap (a logo, a hyphen) are joined as an extra candidate.
 */
import type { InferenceHost, ModelSource } from '../inference/index.js';
import { LazyModel } from '../inference/lazy-model.js';
import { clampBox, crop, resize, toPlanar, type RgbImage } from '../inference/image.js';
import type { Box } from '../contracts.js';
import { DEFAULT_DB_OPTIONS, dbBoxes, type DbOptions } from './db-postprocess.js';
import { iou, nms, union } from './geometry.js';
import { DEFAULT_PLATE_GEOMETRY, isPlateShaped, type PlateGeometry, type PlateLocator, type PlateRegion } from './types.js';

const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

export interface TextPlateLocatorOptions {
  /** Long sides (pixels) the search area is scaled to; several scales add recall and time. */
  scales?: number[];
  db?: Partial<DbOptions>;
  geometry?: Partial<PlateGeometry>;
  /** Overlap above which two plate boxes are one (NMS). */
  nmsIou?: number;
}

export class TextPlateLocator implements PlateLocator {
  readonly name = 'ppocr-det';
  private readonly model: LazyModel;
  private readonly scales: number[];
  private readonly db: DbOptions;
  private readonly geometry: PlateGeometry;
  private readonly nmsIou: number;

  constructor(host: InferenceHost, source: ModelSource, opts: TextPlateLocatorOptions = {}) {
    this.model = new LazyModel(host, 'ppocr-det', source);
    this.scales = opts.scales ?? [960];
    this.db = { ...DEFAULT_DB_OPTIONS, ...opts.db };
    this.geometry = { ...DEFAULT_PLATE_GEOMETRY, ...opts.geometry };
    this.nmsIou = opts.nmsIou ?? 0.5;
  }

  async load(): Promise<void> {
    await this.model.load();
  }

  /** Text boxes (not yet filtered by shape) of one area at one scale, in image coordinates. */
  async textBoxes(image: RgbImage, area: Box, longSide: number): Promise<{ box: Box; score: number }[]> {
    const model = this.model.get();
    const a = clampBox(area, image.width, image.height);
    const sub = a.width === image.width && a.height === image.height ? image : await crop(image, a);
    // Never upscale a small area more than 2×; sides are multiples of 32 as the network needs.
    const scale = Math.min(longSide / Math.max(sub.width, sub.height), 2);
    const w = Math.max(32, Math.round((sub.width * scale) / 32) * 32);
    const h = Math.max(32, Math.round((sub.height * scale) / 32) * 32);
    const pixels = await resize(sub, w, h);
    const input = new Float32Array(3 * w * h);
    toPlanar(pixels, w, h, input, { bgr: true, mean: MEAN, std: STD });
    const out = await model.run({ [model.inputs[0].name]: { type: 'float32', dims: [1, 3, h, w], data: input } });
    const map = Object.values(out)[0];
    const [, , mh, mw] = map.dims;
    const sx = sub.width / mw;
    const sy = sub.height / mh;
    return dbBoxes(map.data as Float32Array, mw, mh, this.db).map(({ box, score }) => ({
      box: { x: a.x + box.x * sx, y: a.y + box.y * sy, width: box.width * sx, height: box.height * sy },
      score,
    }));
  }

  async locate(image: RgbImage, searchAreas: Box[] = []): Promise<PlateRegion[]> {
    const areas = searchAreas.length ? searchAreas : [{ x: 0, y: 0, width: image.width, height: image.height }];
    const pieces: PlateRegion[] = [];
    const joined: PlateRegion[] = [];
    for (const area of areas) {
      for (const s of this.scales) {
        const boxes = await this.textBoxes(image, area, s);
        for (const b of boxes) pieces.push({ ...b, source: this.name });
        for (const m of joinLinePieces(boxes)) joined.push({ ...m, source: `${this.name}+join` });
      }
    }
    const shaped = (rs: PlateRegion[]) =>
      rs.map((r) => ({ ...r, box: clampBox(r.box, image.width, image.height) })).filter((r) => isPlateShaped(r.box, image.width, image.height, this.geometry));
    const kept = nms(shaped(pieces), this.nmsIou);
    // A joined box overlaps its own pieces, so it must not compete with them in NMS; it only
    // gives way to a box that is already (almost) the same.
    for (const j of nms(shaped(joined), this.nmsIou)) if (kept.every((k) => iou(k.box, j.box) < 0.8)) kept.push(j);
    return kept;
  }

  dispose(): Promise<void> {
    return this.model.release();
  }
}

/**
 * Joins neighbouring boxes of one text line (similar height, overlapping rows, a gap under
 * one character height): plates split by a logo or a wide hyphen come back whole.
 */
export function joinLinePieces(boxes: readonly { box: Box; score: number }[]): { box: Box; score: number }[] {
  const out: { box: Box; score: number }[] = [];
  for (let i = 0; i < boxes.length; i++) {
    for (let j = 0; j < boxes.length; j++) {
      if (i === j) continue;
      const a = boxes[i].box;
      const b = boxes[j].box;
      if (b.x < a.x) continue;
      const hMin = Math.min(a.height, b.height);
      const hMax = Math.max(a.height, b.height);
      if (hMax > 1.4 * hMin) continue;
      const rowOverlap = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
      if (rowOverlap < 0.6 * hMin) continue;
      const gap = b.x - (a.x + a.width);
      // Unclipped boxes of two pieces may overlap by half a character (the demo's "KXR" and "482").
      if (gap > 1.0 * hMin || gap < -0.6 * hMin) continue;
      out.push({ box: union(a, b), score: Math.min(boxes[i].score, boxes[j].score) });
    }
  }
  return out;
}
