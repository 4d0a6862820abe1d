/** Event ids: stable and unique per edge, within the contract's safe charset. */
import { SAFE_ID } from '../../shared/schemas/common.js';

const clean = (s: string) => s.replace(/[^A-Za-z0-9._:-]/g, '_');

/**
 * `${edgeId}-${cameraId}-${ts}-${seq}`: the same read always maps to the same id (a retried
 * commit cannot duplicate it), and two reads of one edge never share one (ts + per-camera seq).
 */
export function makeEventId(edgeId: string, cameraId: string, ts: number, seq: number): string {
  let id = `${clean(edgeId)}-${clean(cameraId)}-${ts}-${seq}`;
  if (id.length > 128) id = `${clean(edgeId).slice(0, 40)}-${clean(cameraId).slice(0, 50)}-${ts}-${seq}`.slice(0, 128);
  if (!/^[A-Za-z0-9]/.test(id)) id = 'e' + id.slice(0, 127);
  if (!SAFE_ID.test(id)) throw new Error(`cannot build a safe event id from ${edgeId}/${cameraId}`);
  return id;
}
