/**
 * Which zone of its camera a plate belongs to.
 * - A camera without zones reports every plate (zone null).
 * - A polygon zone holds the plates whose box centre lies inside it (frame pixel coordinates);
 *   the first polygon that holds it wins, in the order the config lists them.
 * - A line zone holds no area: it names the camera's gate line (its direction) and holds every
 *   plate no polygon of the camera holds.
 * - A camera whose zones are all polygons drops a plate outside every one of them (`outside`).
 */
import type { Box } from '../contracts.js';
import type { EdgeZone } from '../config/schema.js';

export interface Point {
  x: number;
  y: number;
}

/** Even-odd ray casting; points on an edge may fall either way. */
export function pointInPolygon(p: Point, poly: Point[]): boolean {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const a = poly[i];
    const b = poly[j];
    if (a.y > p.y !== b.y > p.y && p.x < ((b.x - a.x) * (p.y - a.y)) / (b.y - a.y) + a.x) inside = !inside;
  }
  return inside;
}

export type ZoneHit = { zone: EdgeZone | null } | { outside: true };

export class ZoneMap {
  private byCamera = new Map<string, EdgeZone[]>();

  constructor(zones: EdgeZone[] = []) {
    this.update(zones);
  }

  update(zones: EdgeZone[]): void {
    const m = new Map<string, EdgeZone[]>();
    for (const z of zones) m.set(z.camera_id, [...(m.get(z.camera_id) ?? []), z]);
    this.byCamera = m;
  }

  zonesOf(cameraId: string): readonly EdgeZone[] {
    return this.byCamera.get(cameraId) ?? [];
  }

  /** The zone of a plate seen at `box` on `cameraId`. */
  locate(cameraId: string, box: Box): ZoneHit {
    const zones = this.byCamera.get(cameraId);
    if (!zones?.length) return { zone: null };
    const c = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
    const poly = zones.find((z) => z.geometry.type === 'polygon' && pointInPolygon(c, z.geometry.points));
    if (poly) return { zone: poly };
    const line = zones.find((z) => z.geometry.type === 'line');
    return line ? { zone: line } : { outside: true };
  }
}
