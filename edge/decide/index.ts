/**
 * Decide stage: which confirmed reads become events, and what the gate does about them.
 * - Zone filter: a camera with zones reports a plate only when the plate box's centre lies in
 *   one of its polygons (frame pixel coordinates); a camera without zones reports everything.
 * - Lists: per zone, `deny` wins over `allow`; plates compare normalised (case, spaces, dashes).
 * - Barrier hook: called with `open` for an allowed plate in an enter/exit/both zone, `deny` for
 *   a denied one; errors in the hook are logged by the caller, never block the event.
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

export const normalisePlate = (s: string) => s.toUpperCase().replace(/[\s.·-]/g, '');

export type GateAction = 'open' | 'deny' | 'none';

export interface Decision {
  zoneId: string | null;
  zoneType: EdgeZone['type'] | null;
  list: 'allow' | 'deny' | 'none';
  action: GateAction;
}

export interface BarrierRequest extends Decision {
  cameraId: string;
  plateText: string;
}

export class Decider {
  private byCamera = new Map<string, Array<EdgeZone & { allowSet: Set<string>; denySet: Set<string> }>>();

  constructor(zones: EdgeZone[] = []) {
    this.update(zones);
  }

  update(zones: EdgeZone[]): void {
    const m = new Map<string, Array<EdgeZone & { allowSet: Set<string>; denySet: Set<string> }>>();
    for (const z of zones) {
      const list = m.get(z.camera_id) ?? [];
      list.push({ ...z, allowSet: new Set(z.allow.map(normalisePlate)), denySet: new Set(z.deny.map(normalisePlate)) });
      m.set(z.camera_id, list);
    }
    this.byCamera = m;
  }

  /** The decision for one read, or null when it lies outside every zone of its camera. */
  decide(cameraId: string, plateText: string, plateBox: Box): Decision | null {
    const zones = this.byCamera.get(cameraId);
    if (!zones?.length) return { zoneId: null, zoneType: null, list: 'none', action: 'none' };
    const c = { x: plateBox.x + plateBox.width / 2, y: plateBox.y + plateBox.height / 2 };
    const zone = zones.find((z) => pointInPolygon(c, z.geometry.points));
    if (!zone) return null;
    const p = normalisePlate(plateText);
    const list = zone.denySet.has(p) ? 'deny' : zone.allowSet.has(p) ? 'allow' : 'none';
    const gate = zone.type === 'enter' || zone.type === 'exit' || zone.type === 'both';
    const action: GateAction = list === 'deny' ? 'deny' : list === 'allow' && gate ? 'open' : 'none';
    return { zoneId: zone.id, zoneType: zone.type, list, action };
  }
}
