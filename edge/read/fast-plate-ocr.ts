/**
 * fast-plate-ocr (cct_xs_v1_global): a fixed-slot plate recogniser. Input uint8 NHWC
 * [N,64,128,3] RGB, plain resize; output [N,9,37], each slot a softmax over the alphabet
 * with `_` as padding. Slots are independent, so each slot's distribution is exposed as
 * alternatives for the consensus.
 */
import type { InferenceHost, ModelSource } from '../inference/index.js';
import { LazyModel } from '../inference/lazy-model.js';
import { cropResize, padBox, type RgbImage } from '../inference/image.js';
import type { Box } from '../contracts.js';
import { ENGINE_FAST_PLATE, emptyRead, readFromChars, type EngineRead, type PlateReader, type ReadChar } from './types.js';

export const FAST_PLATE_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_';
const W = 128;
const H = 64;

export interface FastPlateOcrOptions {
  /** Padding around the detector's box, as fractions of its width and height. */
  padX?: number;
  padY?: number;
  /**
   * Further paddings each box is also read with; the slots' probabilities of all the crops
   * are averaged before decoding (default: a tighter and a looser crop).
   */
  extraPads?: [number, number][];
  alphabet?: string;
}

export class FastPlateOcrReader implements PlateReader {
  readonly name = ENGINE_FAST_PLATE;
  private readonly model: LazyModel;
  private readonly padX: number;
  private readonly padY: number;
  private readonly alphabet: string;
  private readonly pads: [number, number][];

  constructor(host: InferenceHost, source: ModelSource, opts: FastPlateOcrOptions = {}) {
    this.model = new LazyModel(host, ENGINE_FAST_PLATE, source);
    this.padX = opts.padX ?? 0.06;
    this.padY = opts.padY ?? 0.15;
    this.alphabet = opts.alphabet ?? FAST_PLATE_ALPHABET;
    this.pads = [[this.padX, this.padY], ...(opts.extraPads ?? [[0.02, 0.06], [0.1, 0.25]])];
  }

  async load(): Promise<void> {
    await this.model.load();
  }

  async read(image: RgbImage, boxes: Box[]): Promise<EngineRead[]> {
    const model = this.model.get();
    if (boxes.length === 0) return [];
    const n = boxes.length;
    const k = this.pads.length;
    // One batch: every box with every padding (box-major), averaged per box below.
    const input = new Uint8Array(n * k * H * W * 3);
    const crops = await Promise.all(boxes.flatMap((b) => this.pads.map(([px, py]) => cropResize(image, padBox(b, px, py), W, H))));
    crops.forEach((c, i) => input.set(c, i * H * W * 3));
    const out = Object.values(await model.run({ [model.inputs[0].name]: { type: 'uint8', dims: [n * k, H, W, 3], data: input } }))[0];
    const [slots, classes] = [out.dims[1], out.dims[2]];
    return decodeSlots(meanOfGroups(out.data as Float32Array, n, k, slots * classes), n, slots, classes, this.alphabet);
  }

  dispose(): Promise<void> {
    return this.model.release();
  }
}

/** Averages each run of `k` consecutive blocks of `size` values: [n·k, size] → [n, size]. */
export function meanOfGroups(x: Float32Array, n: number, k: number, size: number): Float32Array {
  if (k === 1) return x;
  const out = new Float32Array(n * size);
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) for (let v = 0; v < size; v++) out[i * size + v] += x[(i * k + j) * size + v] / k;
  return out;
}

/** Decodes [n, slots, classes] softmax slots: argmax per slot, padding dropped, top-3 alternatives kept ('' for padding). */
export function decodeSlots(probs: Float32Array, n: number, slots: number, classes: number, alphabet: string): EngineRead[] {
  const pad = alphabet.indexOf('_');
  const reads: EngineRead[] = [];
  for (let i = 0; i < n; i++) {
    const chars: ReadChar[] = [];
    for (let s = 0; s < slots; s++) {
      const o = (i * slots + s) * classes;
      const ranked = Array.from({ length: classes }, (_, k) => k).sort((a, b) => probs[o + b] - probs[o + a]);
      if (ranked[0] === pad) continue;
      chars.push({
        char: alphabet[ranked[0]],
        confidence: probs[o + ranked[0]],
        // The padding class stays among the runner-ups as '' (no character here): the
        // consensus counts it as this engine's doubt that the slot holds a character.
        alternatives: ranked.slice(1, 4).map((k) => ({ char: k === pad ? '' : alphabet[k], p: probs[o + k] })),
      });
    }
    reads.push(chars.length ? readFromChars(ENGINE_FAST_PLATE, chars) : emptyRead(ENGINE_FAST_PLATE));
  }
  return reads;
}
