/**
 * Vehicles with FastestDet (COCO-80, 352×352, one output grid [85,22,22]). Decoding follows
 * the upstream example: score = obj^0.6 · cls^0.4, centre offsets through tanh, sizes through
 * a sigmoid, relative to the grid cell. Input is BGR /255, plain resize.
 */
import type { InferenceHost, ModelSource } from '../inference/index.js';
import { LazyModel } from '../inference/lazy-model.js';
import { resize, toPlanar, type RgbImage } from '../inference/image.js';
import type { VehicleDetection } from '../contracts.js';
import { nms } from './geometry.js';
import type { VehicleDetector } from './types.js';

/** COCO class index → vehicle type (the only classes kept). */
export const COCO_VEHICLES: Readonly<Record<number, VehicleDetection['type']>> = { 2: 'car', 3: 'motorcycle', 5: 'bus', 7: 'truck' };

export interface FastestDetOptions {
  /** Minimum combined score. */
  threshold?: number;
  nmsIou?: number;
}

const SIZE = 352;
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

export class FastestDetVehicleDetector implements VehicleDetector {
  readonly name = 'fastestdet';
  private readonly model: LazyModel;
  private readonly threshold: number;
  private readonly nmsIou: number;

  constructor(host: InferenceHost, source: ModelSource, opts: FastestDetOptions = {}) {
    this.model = new LazyModel(host, 'fastestdet', source);
    this.threshold = opts.threshold ?? 0.5;
    this.nmsIou = opts.nmsIou ?? 0.45;
  }

  async load(): Promise<void> {
    await this.model.load();
  }

  async detect(image: RgbImage): Promise<VehicleDetection[]> {
    const model = this.model.get();
    const pixels = await resize(image, SIZE, SIZE);
    const input = new Float32Array(3 * SIZE * SIZE);
    toPlanar(pixels, SIZE, SIZE, input, { bgr: true });
    const out = Object.values(await model.run({ [model.inputs[0].name]: { type: 'float32', dims: [1, 3, SIZE, SIZE], data: input } }))[0];
    return decodeFastestDet(out.data as Float32Array, out.dims[1], out.dims[2], out.dims[3], image.width, image.height, this.threshold, this.nmsIou);
  }

  dispose(): Promise<void> {
    return this.model.release();
  }
}

/** Decodes a FastestDet grid [C,H,W] (C = 5 + classes) into vehicle boxes in image pixels. */
export function decodeFastestDet(
  data: Float32Array,
  channels: number,
  gh: number,
  gw: number,
  imgW: number,
  imgH: number,
  threshold: number,
  nmsIou: number,
): VehicleDetection[] {
  const plane = gh * gw;
  const found: { box: VehicleDetection['box']; score: number; type: VehicleDetection['type'] }[] = [];
  for (let gy = 0; gy < gh; gy++) {
    for (let gx = 0; gx < gw; gx++) {
      const at = gy * gw + gx;
      let best = -1;
      let bestScore = 0;
      for (let c = 5; c < channels; c++) {
        const v = data[c * plane + at];
        if (v > bestScore) (bestScore = v), (best = c - 5);
      }
      const type = COCO_VEHICLES[best];
      if (!type) continue;
      const obj = data[at];
      const score = Math.pow(Math.max(obj, 0), 0.6) * Math.pow(bestScore, 0.4);
      if (score < threshold) continue;
      const cx = (gx + Math.tanh(data[plane + at])) / gw;
      const cy = (gy + Math.tanh(data[2 * plane + at])) / gh;
      const bw = sigmoid(data[3 * plane + at]);
      const bh = sigmoid(data[4 * plane + at]);
      const x1 = Math.max(0, (cx - bw / 2) * imgW);
      const y1 = Math.max(0, (cy - bh / 2) * imgH);
      const x2 = Math.min(imgW, (cx + bw / 2) * imgW);
      const y2 = Math.min(imgH, (cy + bh / 2) * imgH);
      if (x2 - x1 < 2 || y2 - y1 < 2) continue;
      found.push({ box: { x: x1, y: y1, width: x2 - x1, height: y2 - y1 }, score, type });
    }
  }
  return nms(found, nmsIou).map((f) => ({ box: f.box, type: f.type, confidence: f.score }));
}
