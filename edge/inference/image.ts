/**
 * Image helpers shared by the stages: decoding, crops and the tensor layouts the models
 * want. Images are packed RGB24 like the pipeline's frames.
 */
import sharp from 'sharp';
import type { Box } from '../contracts.js';

export interface RgbImage {
  width: number;
  height: number;
  /** Packed RGB24, width*height*3 bytes. */
  data: Buffer;
}

/** Decodes JPEG/PNG/WebP (EXIF orientation applied) to packed RGB. */
export async function decodeImage(encoded: Buffer): Promise<RgbImage> {
  const { data, info } = await sharp(encoded).rotate().removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data };
}

const raw = (img: RgbImage) => sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } });

/** Integer box clamped to the image, at least 1×1. */
export function clampBox(b: Box, width: number, height: number): Box {
  const x = Math.max(0, Math.min(width - 1, Math.floor(b.x)));
  const y = Math.max(0, Math.min(height - 1, Math.floor(b.y)));
  const x2 = Math.max(x + 1, Math.min(width, Math.ceil(b.x + b.width)));
  const y2 = Math.max(y + 1, Math.min(height, Math.ceil(b.y + b.height)));
  return { x, y, width: x2 - x, height: y2 - y };
}

/** Grows a box by fractions of its size on each side. */
export function padBox(b: Box, fx: number, fy: number): Box {
  return { x: b.x - b.width * fx, y: b.y - b.height * fy, width: b.width * (1 + 2 * fx), height: b.height * (1 + 2 * fy) };
}

/** Crops `box` (clamped) and resizes it to exactly `width`×`height` (no aspect keeping). */
export async function cropResize(img: RgbImage, box: Box, width: number, height: number): Promise<Buffer> {
  const b = clampBox(box, img.width, img.height);
  return raw(img).extract({ left: b.x, top: b.y, width: b.width, height: b.height }).resize(width, height, { fit: 'fill', kernel: 'linear' }).raw().toBuffer();
}

/** Crops `box` (clamped) at native resolution. */
export async function crop(img: RgbImage, box: Box): Promise<RgbImage> {
  const b = clampBox(box, img.width, img.height);
  const data = await raw(img).extract({ left: b.x, top: b.y, width: b.width, height: b.height }).raw().toBuffer();
  return { width: b.width, height: b.height, data };
}

/** Resizes the whole image (no aspect keeping). */
export async function resize(img: RgbImage, width: number, height: number): Promise<Buffer> {
  if (width === img.width && height === img.height) return img.data;
  return raw(img).resize(width, height, { fit: 'fill', kernel: 'linear' }).raw().toBuffer();
}

/** Encodes an RGB image as JPEG (event crops, debugging). */
export function encodeJpeg(img: RgbImage, quality = 85): Promise<Buffer> {
  return raw(img).jpeg({ quality }).toBuffer();
}

/**
 * Writes packed RGB pixels into `out` as planar CHW float at `offset`, optionally swapping
 * to BGR (PaddleOCR and FastestDet were trained on OpenCV's BGR) and normalising
 * `(x/255 - mean) / std` per output channel.
 */
export function toPlanar(
  rgb: Uint8Array,
  width: number,
  height: number,
  out: Float32Array,
  opts: { bgr: boolean; mean?: readonly number[]; std?: readonly number[]; offset?: number; rowStride?: number },
): void {
  const mean = opts.mean ?? [0, 0, 0];
  const std = opts.std ?? [1, 1, 1];
  const stride = opts.rowStride ?? width;
  const plane = stride * height;
  const base = opts.offset ?? 0;
  const order = opts.bgr ? [2, 1, 0] : [0, 1, 2];
  for (let c = 0; c < 3; c++) {
    const src = order[c];
    const scale = 1 / (255 * std[c]);
    const shift = mean[c] / std[c];
    const o = base + c * plane;
    for (let y = 0; y < height; y++) {
      let si = y * width * 3 + src;
      let di = o + y * stride;
      for (let x = 0; x < width; x++, si += 3, di++) out[di] = rgb[si] * scale - shift;
    }
  }
}
