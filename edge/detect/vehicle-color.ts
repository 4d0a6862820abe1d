/**
 * Vehicle colour from the vehicle crop: the dominant colour of the body, taken from the
 * centre band (windows, road and plate mostly fall outside it), classified in HSV.
 */
import sharp from 'sharp';
import type { RgbImage } from '../inference/image.js';
import { clampBox } from '../inference/image.js';
import type { Box } from '../contracts.js';

export const VEHICLE_COLORS = ['white', 'silver', 'gray', 'black', 'red', 'orange', 'yellow', 'green', 'blue', 'brown'] as const;
export type VehicleColor = (typeof VEHICLE_COLORS)[number];

/** Names one RGB pixel's colour. */
export function colorName(r: number, g: number, b: number): VehicleColor {
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const v = max / 255;
  const s = max === 0 ? 0 : (max - min) / max;
  if (s < 0.18 || v < 0.16) {
    if (v < 0.22) return 'black';
    if (v < 0.5) return 'gray';
    if (v < 0.78) return 'silver';
    return 'white';
  }
  let h: number;
  if (max === r) h = ((g - b) / (max - min) + 6) % 6;
  else if (max === g) h = (b - r) / (max - min) + 2;
  else h = (r - g) / (max - min) + 4;
  h *= 60;
  if (h < 15 || h >= 340) return v < 0.45 && s < 0.6 ? 'brown' : 'red';
  if (h < 40) return v < 0.6 ? 'brown' : 'orange';
  if (h < 70) return 'yellow';
  if (h < 170) return 'green';
  if (h < 260) return 'blue';
  return 'red';
}

/**
 * The most frequent colour name over the middle of the vehicle box (x 20–80%, y 35–75%),
 * with its share of the pixels as confidence.
 */
export async function vehicleColor(image: RgbImage, box: Box): Promise<{ color: VehicleColor; confidence: number }> {
  const band = clampBox({ x: box.x + box.width * 0.2, y: box.y + box.height * 0.35, width: box.width * 0.6, height: box.height * 0.4 }, image.width, image.height);
  const px = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .extract({ left: band.x, top: band.y, width: band.width, height: band.height })
    .resize(32, 16, { fit: 'fill' })
    .raw()
    .toBuffer();
  const counts = new Map<VehicleColor, number>();
  for (let i = 0; i < px.length; i += 3) {
    const c = colorName(px[i], px[i + 1], px[i + 2]);
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  let best: VehicleColor = 'gray';
  let n = 0;
  for (const [c, k] of counts) if (k > n) (best = c), (n = k);
  return { color: best, confidence: n / (px.length / 3) };
}
