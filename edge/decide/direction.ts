/**
 * Direction of a pass through a zone's gate line (shared/schemas/config.ts `ZoneInSide`).
 *
 * The gate line is a `line` zone itself or a polygon's first edge. The plate's centre moved from
 * where the track first saw it to where it was confirmed; that motion, projected on the line's
 * normal towards the `in_side`, is the direction: positive = `in`, negative = `out`. A motion
 * smaller than half the plate's height (a car standing still, a read confirmed in the first
 * frames) gives no direction (null) rather than a guess: a list or barrier that acts on one
 * direction only then does not act (the trade-off: a car that stops before moving half a plate
 * height is not let in by an `in`-only list; the decision says why).
 */
import type { Box } from '../contracts.js';
import type { EdgeZone } from '../config/schema.js';

export type PassDirection = 'in' | 'out';

const centre = (b: Box) => ({ x: b.x + b.width / 2, y: b.y + b.height / 2 });

/** The direction of the motion `path` through `zone`'s gate line, or null (no line, or too little motion). */
export function directionOf(zone: Pick<EdgeZone, 'geometry' | 'in_side'>, path: { first: Box; last: Box } | undefined): PassDirection | null {
  if (!zone.in_side || !path) return null;
  const [a, b] = zone.geometry.points as [{ x: number; y: number }, { x: number; y: number }];
  const lx = b.x - a.x;
  const ly = b.y - a.y;
  const len = Math.hypot(lx, ly);
  if (len === 0) return null;
  // Image coordinates (y down): walking a → b, the right-hand normal is (-ly, lx).
  const side = zone.in_side === 'right' ? 1 : -1;
  const nx = (-ly / len) * side;
  const ny = (lx / len) * side;
  const p0 = centre(path.first);
  const p1 = centre(path.last);
  const along = (p1.x - p0.x) * nx + (p1.y - p0.y) * ny;
  const minMotion = Math.max(2, 0.5 * Math.max(path.first.height, path.last.height));
  if (Math.abs(along) < minMotion) return null;
  return along > 0 ? 'in' : 'out';
}
