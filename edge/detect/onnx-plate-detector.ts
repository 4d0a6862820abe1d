/**
 * A dedicated plate detector: any ONNX model with the end-to-end YOLO export used by
 * open-image-models / fast-alpr plate detectors — input float [1,3,S,S] RGB /255 letterboxed,
 * output [N,7] rows of (batch, x1, y1, x2, y2, class, score) in input pixels.
 */
import type { InferenceHost, ModelSource } from '../inference/index.js';
import { LazyModel } from '../inference/lazy-model.js';
import { clampBox, crop, toPlanar, type RgbImage } from '../inference/image.js';
import sharp from 'sharp';
import type { Box } from '../contracts.js';
import { nms } from './geometry.js';
import type { PlateLocator, PlateRegion } from './types.js';

export interface OnnxPlateDetectorOptions {
  /** Square input side; read from the model when it is fixed. */
  inputSize?: number;
  threshold?: number;
}

export class OnnxPlateDetector implements PlateLocator {
  readonly name = 'plate-detector';
  private readonly model: LazyModel;
  private size: number;
  private readonly threshold: number;

  constructor(host: InferenceHost, source: ModelSource, opts: OnnxPlateDetectorOptions = {}) {
    this.model = new LazyModel(host, 'plate-detector', source);
    this.size = opts.inputSize ?? 384;
    this.threshold = opts.threshold ?? 0.4;
  }

  async load(): Promise<void> {
    const model = await this.model.load();
    const side = model.inputs[0].shape?.[3];
    if (typeof side === 'number' && side > 0) this.size = side;
  }

  async locate(image: RgbImage, searchAreas: Box[] = []): Promise<PlateRegion[]> {
    const model = this.model.get();
    const areas = searchAreas.length ? searchAreas : [{ x: 0, y: 0, width: image.width, height: image.height }];
    const found: PlateRegion[] = [];
    for (const area of areas) {
      const a = clampBox(area, image.width, image.height);
      const sub = await crop(image, a);
      const scale = Math.min(this.size / sub.width, this.size / sub.height);
      const w = Math.max(1, Math.round(sub.width * scale));
      const h = Math.max(1, Math.round(sub.height * scale));
      const padX = Math.floor((this.size - w) / 2);
      const padY = Math.floor((this.size - h) / 2);
      const pixels = await sharp(sub.data, { raw: { width: sub.width, height: sub.height, channels: 3 } })
        .resize(w, h, { fit: 'fill' })
        .extend({ left: padX, top: padY, right: this.size - w - padX, bottom: this.size - h - padY, background: { r: 114, g: 114, b: 114 } })
        .raw()
        .toBuffer();
      const input = new Float32Array(3 * this.size * this.size);
      toPlanar(pixels, this.size, this.size, input, { bgr: false });
      const out = Object.values(await model.run({ [model.inputs[0].name]: { type: 'float32', dims: [1, 3, this.size, this.size], data: input } }))[0];
      const rows = out.dims[0];
      const cols = out.dims[out.dims.length - 1];
      const d = out.data as Float32Array;
      for (let r = 0; r < rows; r++) {
        const score = d[r * cols + 6];
        if (score < this.threshold) continue;
        const x1 = (d[r * cols + 1] - padX) / scale;
        const y1 = (d[r * cols + 2] - padY) / scale;
        const x2 = (d[r * cols + 3] - padX) / scale;
        const y2 = (d[r * cols + 4] - padY) / scale;
        found.push({ box: clampBox({ x: a.x + x1, y: a.y + y1, width: x2 - x1, height: y2 - y1 }, image.width, image.height), score, source: this.name });
      }
    }
    return nms(found, 0.5);
  }

  dispose(): Promise<void> {
    return this.model.release();
  }
}
