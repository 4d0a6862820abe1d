/**
 * Event rows for the events store's contract test: hand-made ones, a seeded random stream, and
 * brute-force answers computed from the rows themselves (what a search, a count or a rollup
 * must say), so both backends are held to the data and not only to each other.
 */
import type { EventFilter, EventRow } from '../../../cloud/store/events-store.js';
import { addToSketch, newSketch } from '../../../cloud/store/hll.js';
import { DECISION_ACTIONS } from '../../../shared/schemas/lists.js';

export const MINUTE = 60_000;
export const HOUR = 3_600_000;
const LEVEL_MS = [MINUTE, HOUR, 86_400_000];

let made = 0;

/** A row with defaults for every column but ts. */
export function eventRow(over: Partial<EventRow> & { ts: number }): EventRow {
  const i = ++made;
  return {
    event_id: `ev-${process.pid}-${i}`,
    camera_id: 'cam-1',
    zone_id: 'zone-a',
    plate_text: 'AB123CD',
    confidence: 0.5,
    processing_ms: 20,
    body: JSON.stringify({ raw_candidates: [{ text: 'AB123CD', confidence: 0.5, model: 'test' }], metadata: { i } }),
    frame_path: `y/m/d/ev-${i}-frame-0a1b2c3d.jpg`,
    crop_path: null,
    created_at: over.ts + 250,
    decision_action: null,
    decision_alert: null,
    ...over,
  };
}

const LETTERS = 'ABCDEFGHJKLMNPRSTUVWXYZ';
const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

/** A plate: mostly upper-case ASCII, some lower-case, some with Ü/Ä, dashes and spaces. */
function plate(r: () => number): string {
  let s = '';
  const len = 4 + Math.floor(r() * 5);
  for (let i = 0; i < len; i++) s += r() < 0.5 ? pick(r, [...LETTERS]) : String(Math.floor(r() * 10));
  const x = r();
  if (x < 0.1) s = s.toLowerCase();
  else if (x < 0.2) s = `MÜ-${s}`;
  else if (x < 0.25) s = `ä${s.slice(1)}`;
  else if (x < 0.3) s = `${s.slice(0, 2)} ${s.slice(2)}`;
  return s;
}

/**
 * `n` random events around `boundary` (the start of a month: its previous month and itself),
 * with some in `pastTs` and `futureTs` days (months no partition is made for), repeated
 * timestamps (ties broken by seq) and repeated event ids (duplicates). Confidences are
 * multiples of 1/1024 and processing times whole: their sums are exact in any order, so rollups
 * summed in different batches compare equal to the last bit.
 */
export function randomEvents(r: () => number, n: number, boundary: number, pastTs: number, futureTs: number): EventRow[] {
  const plates = Array.from({ length: 120 }, () => plate(r));
  const out: EventRow[] = [];
  for (let i = 0; i < n; i++) {
    const x = r();
    let ts: number;
    if (out.length > 0 && x < 0.08) ts = pick(r, out).ts;
    else if (x < 0.12) ts = pastTs + Math.floor(r() * 3 * 86_400_000);
    else if (x < 0.16) ts = futureTs + Math.floor(r() * 2 * 86_400_000);
    else ts = boundary + Math.floor((r() * 2 - 1) * 36 * HOUR);
    const action = r() < 0.4 ? null : pick(r, DECISION_ACTIONS);
    const row = eventRow({
      ts,
      camera_id: pick(r, ['cam-1', 'cam-2', 'cam-3', null]),
      zone_id: pick(r, ['zone-a', 'zone-b', null]),
      plate_text: pick(r, plates),
      confidence: r() < 0.1 ? null : Math.floor(r() * 1025) / 1024,
      processing_ms: r() < 0.2 ? null : 5 + Math.floor(r() * 500),
      decision_action: action,
      decision_alert: action === null ? null : action === 'alert' || r() < 0.2 ? 1 : 0,
    });
    // A repeat of an earlier event_id (an edge's retry): a duplicate, whatever its content.
    if (out.length > 0 && r() < 0.02) row.event_id = pick(r, out).event_id;
    out.push(row);
  }
  return out;
}

/** Case folding of the partial plate search: every letter from three characters on, ASCII below. */
const fold = (s: string, everyLetter: boolean) => (everyLetter ? s.toLowerCase() : s.replace(/[A-Z]/g, (c) => c.toLowerCase()));

/** Whether `e` matches `f`, as GET /events means it. */
export function matches(e: EventRow, f: EventFilter): boolean {
  if (f.camera_id !== undefined && e.camera_id !== f.camera_id) return false;
  if (f.zone_id !== undefined && e.zone_id !== f.zone_id) return false;
  if (f.start !== undefined && e.ts < f.start) return false;
  if (f.end !== undefined && e.ts > f.end) return false;
  if (f.min_confidence !== undefined && (e.confidence === null || e.confidence < f.min_confidence)) return false;
  if (f.action !== undefined && e.decision_action !== f.action) return false;
  if (f.alert !== undefined && (e.decision_alert === 1) !== f.alert) return false;
  if (f.plate_text) {
    const every = [...f.plate_text].length >= 3;
    if (!fold(e.plate_text, every).includes(fold(f.plate_text, every))) return false;
  }
  return true;
}

export interface RollupRow {
  level: number;
  bucket: number;
  camera_id: string;
  zone_id: string;
  n: number;
  n_conf: number;
  sum_conf: number;
  min_conf: number | null;
  max_conf: number | null;
  n_proc: number;
  sum_proc: number;
}

const keyOf = (level: number, bucket: number, cam: string, zone: string) => `${level}|${bucket}|${cam}|${zone}`;

/** The rollup rows and sketches `rows` must have produced, counted one event at a time. */
export function bruteForceRollups(rows: readonly EventRow[]): { rollups: Map<string, RollupRow>; sketches: Map<string, Uint8Array> } {
  const rollups = new Map<string, RollupRow>();
  const sketches = new Map<string, Uint8Array>();
  for (const e of rows) {
    for (const [level, size] of LEVEL_MS.entries()) {
      const bucket = Math.floor(e.ts / size);
      const cam = e.camera_id ?? '';
      const zone = e.zone_id ?? '';
      const k = keyOf(level, bucket, cam, zone);
      let x = rollups.get(k);
      if (!x) rollups.set(k, (x = { level, bucket, camera_id: cam, zone_id: zone, n: 0, n_conf: 0, sum_conf: 0, min_conf: null, max_conf: null, n_proc: 0, sum_proc: 0 }));
      x.n++;
      if (e.confidence !== null) {
        x.n_conf++;
        x.sum_conf += e.confidence;
        x.min_conf = x.min_conf === null ? e.confidence : Math.min(x.min_conf, e.confidence);
        x.max_conf = x.max_conf === null ? e.confidence : Math.max(x.max_conf, e.confidence);
      }
      if (e.processing_ms !== null) {
        x.n_proc++;
        x.sum_proc += e.processing_ms;
      }
      if (level === 0) continue;
      let s = sketches.get(k);
      if (!s) sketches.set(k, (s = newSketch()));
      addToSketch(s, e.plate_text);
    }
  }
  return { rollups, sketches };
}

export const rollupKey = (r: { level: number; bucket: number; camera_id: string; zone_id: string }) => keyOf(r.level, r.bucket, r.camera_id, r.zone_id);
