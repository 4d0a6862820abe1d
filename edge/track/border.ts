/**
 * Plates cut by the edge of what the camera searches (the frame, or its region of interest),
 * and reads that are only part of a plate.
 *
 * A car entering or leaving the picture shows part of its plate; the readers then read the
 * part they see ("LMN" of "GF19 LMN") often with high confidence, because every character
 * they read is a real one. Such a read is not wrong character by character, it is short, so
 * neither the engines' confidences nor the consensus can tell. Geometry can: the plate box
 * touches the edge of the searched area.
 */
import { canonicalPlate } from '../../shared/plate/index.js';
import type { Box } from '../contracts.js';

/**
 * True when `box` lies at an edge of the searched area: the frame (`width` × `height`) or,
 * when given, the region of interest inside it.
 *
 * Plate boxes come from a text detector: they bound the characters, not the plate. A plate cut
 * by the left or right edge between two characters shows its last (first) characters a space
 * away from the edge (the demo's "GF19 LMN" entering from the left gives a box for "LMN" 20 px
 * from the edge, its text 30 px high), so at the left and right edges the margin is `chars`
 * character sizes (the box height stands for one). At the top and bottom a cut goes through
 * the characters themselves, so the box reaches the edge: there the margin is only `margin`
 * of the area's height. Every margin is at least 2 px and at least `margin` of the area's size.
 */
export function isBorderCut(box: Box, width: number, height: number, roi?: Box, o: { margin?: number; chars?: number } = {}): boolean {
  const margin = o.margin ?? 0.005;
  const chars = o.chars ?? 1;
  const x0 = Math.max(0, roi?.x ?? 0);
  const y0 = Math.max(0, roi?.y ?? 0);
  const x1 = Math.min(width, roi ? roi.x + roi.width : width);
  const y1 = Math.min(height, roi ? roi.y + roi.height : height);
  if (!(x1 > x0 && y1 > y0)) return false;
  const mx = Math.max(2, margin * (x1 - x0), chars * box.height);
  const my = Math.max(2, margin * (y1 - y0));
  return box.x <= x0 + mx || box.y <= y0 + my || box.x + box.width >= x1 - mx || box.y + box.height >= y1 - my;
}

/**
 * True when `part` is a strict piece of `whole` (look-alikes folded, so `LMN` is a piece of
 * `GF19 1MN`'s `GF191MN` as of `GF19LMN`): at least one character shorter and contained in it.
 */
export function isPartialRead(part: string, whole: string): boolean {
  const p = canonicalPlate(part);
  const w = canonicalPlate(whole);
  return p.length > 0 && p.length < w.length && w.includes(p);
}
