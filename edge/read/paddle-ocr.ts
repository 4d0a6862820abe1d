/**
 * PP-OCRv4 text recognition (CTC over 6,623 keys + blank + space). Input [N,3,48,W] BGR,
 * (x/255-0.5)/0.5, height 48 keeping aspect, batch padded to its widest crop.
 *
 * Decoding is restricted to plate characters: at each time step the probabilities of a
 * plate character's variants (upper, lower, full-width) are summed, everything else
 * (punctuation, CJK, space) is one "other" class that separates characters but emits
 * nothing. This keeps a plate's `O` from losing to `o`, `〇` or `()`.
 */
import { readFileSync } from 'node:fs';
import type { InferenceHost, ModelSource } from '../inference/index.js';
import { LazyModel } from '../inference/lazy-model.js';
import { crop, padBox, toPlanar, type RgbImage } from '../inference/image.js';
import sharp from 'sharp';
import { PLATE_ALPHABET, normalizePlate } from '../../shared/plate/index.js';
import type { Box } from '../contracts.js';
import { ENGINE_PADDLE, readFromChars, type EngineRead, type PlateReader, type ReadChar } from './types.js';

const H = 48;
const BLANK = -1;
const OTHER = -2;

export interface PaddleOcrOptions {
  /** Path of ppocr_keys_v1.txt (one key per line). */
  keysPath: string;
  maxWidth?: number;
  padX?: number;
  padY?: number;
}

/** Maps each output class to a plate-alphabet index, BLANK or OTHER. */
export function classGroups(keys: readonly string[]): Int16Array {
  const groups = new Int16Array(keys.length + 2);
  groups[0] = BLANK;
  keys.forEach((k, i) => {
    const n = normalizePlate(k);
    groups[i + 1] = n.length === 1 && k.trim().length === 1 ? PLATE_ALPHABET.indexOf(n) : OTHER;
  });
  groups[keys.length + 1] = OTHER; // the space appended by use_space_char
  return groups;
}

export class PaddleOcrReader implements PlateReader {
  readonly name = ENGINE_PADDLE;
  private readonly model: LazyModel;
  private groups?: Int16Array;
  private readonly maxWidth: number;
  private readonly padX: number;
  private readonly padY: number;

  constructor(
    host: InferenceHost,
    source: ModelSource,
    private readonly opts: PaddleOcrOptions,
  ) {
    this.model = new LazyModel(host, ENGINE_PADDLE, source);
    this.maxWidth = opts.maxWidth ?? 320;
    this.padX = opts.padX ?? 0.03;
    this.padY = opts.padY ?? 0.08;
  }

  async load(): Promise<void> {
    this.groups ??= classGroups(readFileSync(this.opts.keysPath, 'utf8').replace(/\r?\n$/, '').split(/\r?\n/));
    await this.model.load();
  }

  async read(image: RgbImage, boxes: Box[]): Promise<EngineRead[]> {
    const model = this.model.get();
    const groups = this.groups!;
    if (boxes.length === 0) return [];
    const crops = await Promise.all(boxes.map((b) => crop(image, padBox(b, this.padX, this.padY))));
    const widths = crops.map((c) => Math.max(8, Math.min(this.maxWidth, Math.ceil((H * c.width) / c.height))));
    const batchW = Math.max(...widths);
    const n = crops.length;
    const input = new Float32Array(n * 3 * H * batchW);
    await Promise.all(
      crops.map(async (c, i) => {
        const px = await sharp(c.data, { raw: { width: c.width, height: c.height, channels: 3 } }).resize(widths[i], H, { fit: 'fill' }).raw().toBuffer();
        toPlanar(px, widths[i], H, input, { bgr: true, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], offset: i * 3 * H * batchW, rowStride: batchW });
      }),
    );
    const out = Object.values(await model.run({ [model.inputs[0].name]: { type: 'float32', dims: [n, 3, H, batchW], data: input } }))[0];
    const [, steps, classes] = out.dims;
    const data = out.data as Float32Array;
    return Array.from({ length: n }, (_, i) => ctcDecodePlate(data.subarray(i * steps * classes, (i + 1) * steps * classes), steps, classes, groups));
  }

  dispose(): Promise<void> {
    return this.model.release();
  }
}

/** Greedy CTC decoding over plate-character groups (see the module comment). */
export function ctcDecodePlate(probs: Float32Array, steps: number, classes: number, groups: Int16Array): EngineRead {
  const A = PLATE_ALPHABET.length;
  const sums = new Float64Array(A + 2); // [0..A) chars, A = blank, A+1 = other
  const chars: ReadChar[] = [];
  let prev = -3;
  for (let t = 0; t < steps; t++) {
    sums.fill(0);
    const o = t * classes;
    for (let k = 0; k < classes; k++) {
      const g = groups[k];
      sums[g >= 0 ? g : g === BLANK ? A : A + 1] += probs[o + k];
    }
    let best = 0;
    for (let k = 1; k < A + 2; k++) if (sums[k] > sums[best]) best = k;
    if (best < A && best !== prev) {
      const ranked: { char: string; p: number }[] = [];
      for (let k = 0; k < A; k++) if (k !== best && sums[k] > 0.01) ranked.push({ char: PLATE_ALPHABET[k], p: sums[k] });
      ranked.sort((a, b) => b.p - a.p);
      chars.push({ char: PLATE_ALPHABET[best], confidence: sums[best], alternatives: ranked.slice(0, 3) });
    } else if (best < A && best === prev) {
      // Same character over several steps: keep its most confident step.
      const last = chars[chars.length - 1];
      if (sums[best] > last.confidence) last.confidence = sums[best];
    }
    prev = best;
  }
  return readFromChars(ENGINE_PADDLE, chars);
}
