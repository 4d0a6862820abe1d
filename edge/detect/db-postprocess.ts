/**
 * Post-processing of a DB (differentiable binarisation) text probability map, as PaddleOCR
 * does it for PP-OCR detectors, restricted to axis-aligned boxes: threshold the map, take
 * connected components, score each by its mean probability, then "unclip" (grow by
 * area·ratio/perimeter) because DB is trained to predict shrunken text kernels.
 */
import type { Box } from '../contracts.js';

export interface DbOptions {
  /** Pixel threshold on the probability map. */
  thresh: number;
  /** Minimum mean probability of a component. */
  boxThresh: number;
  unclipRatio: number;
  /** Components with fewer pixels are noise. */
  minPixels: number;
  /** Keep at most this many boxes (largest scores first). */
  maxCandidates: number;
}

export const DEFAULT_DB_OPTIONS: DbOptions = { thresh: 0.3, boxThresh: 0.5, unclipRatio: 1.5, minPixels: 6, maxCandidates: 200 };

/** Boxes in map coordinates, with scores. */
export function dbBoxes(map: Float32Array, width: number, height: number, opts: DbOptions = DEFAULT_DB_OPTIONS): { box: Box; score: number }[] {
  const labels = new Int32Array(width * height);
  const stack = new Int32Array(width * height);
  const out: { box: Box; score: number }[] = [];
  let label = 0;
  for (let start = 0; start < map.length; start++) {
    if (labels[start] !== 0 || map[start] <= opts.thresh) continue;
    label++;
    let sp = 0;
    stack[sp++] = start;
    labels[start] = label;
    let n = 0;
    let sum = 0;
    let x0 = width;
    let y0 = height;
    let x1 = -1;
    let y1 = -1;
    while (sp > 0) {
      const p = stack[--sp];
      const x = p % width;
      const y = (p - x) / width;
      n++;
      sum += map[p];
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
      // 4-connectivity keeps neighbouring text lines apart.
      if (x > 0 && labels[p - 1] === 0 && map[p - 1] > opts.thresh) (labels[p - 1] = label), (stack[sp++] = p - 1);
      if (x < width - 1 && labels[p + 1] === 0 && map[p + 1] > opts.thresh) (labels[p + 1] = label), (stack[sp++] = p + 1);
      if (y > 0 && labels[p - width] === 0 && map[p - width] > opts.thresh) (labels[p - width] = label), (stack[sp++] = p - width);
      if (y < height - 1 && labels[p + width] === 0 && map[p + width] > opts.thresh) (labels[p + width] = label), (stack[sp++] = p + width);
    }
    if (n < opts.minPixels) continue;
    const score = sum / n;
    if (score < opts.boxThresh) continue;
    const w = x1 - x0 + 1;
    const h = y1 - y0 + 1;
    const d = (w * h * opts.unclipRatio) / (2 * (w + h));
    out.push({ box: { x: x0 - d, y: y0 - d, width: w + 2 * d, height: h + 2 * d }, score });
  }
  out.sort((a, b) => b.score - a.score);
  return out.slice(0, opts.maxCandidates);
}
