/**
 * The cloud's startup image sweep (`npm run bench -- image-sweep`): how long a start waits
 * before listening, per image file on disk. BENCH_SWEEP_EVENTS events (default 50,000) with a
 * frame each and a crop for 9 in 10, plus one orphan crop for every 10th, spread over 28 days.
 * Baseline: the same tree read with readdir alone (no lookups, nothing removed).
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb } from '../cloud/db/open.js';
import { SqliteEventsStore, type EventRow } from '../cloud/store/events-store.js';
import { LocalImageStore } from '../cloud/images/local-image-store.js';

const N = Number(process.env.BENCH_SWEEP_EVENTS ?? 50_000);
const dir = mkdtempSync(join(tmpdir(), 'anpr-bench-sweep-'));
try {
  const db = openDb(join(dir, 'anpr.db'));
  const events = new SqliteEventsStore(db);
  const images = new LocalImageStore(join(dir, 'images'), 1 << 20);
  const now = Date.now();
  const inserts: Promise<unknown>[] = [];
  for (let i = 0; i < N; i++) {
    const day = ['2024', '01', String(1 + (i % 28)).padStart(2, '0')];
    mkdirSync(join(images.root, ...day), { recursive: true });
    const frame = join(...day, `e${i}-frame-0000abcd.jpg`);
    const crop = join(...day, `e${i}-crop-0000abcd.jpg`);
    writeFileSync(join(images.root, frame), 'x');
    writeFileSync(join(images.root, crop), 'x');
    const row: EventRow = { event_id: `e${i}`, ts: now, camera_id: null, zone_id: null, plate_text: 'ABC123', confidence: null, processing_ms: null, body: '{}', frame_path: frame, crop_path: i % 10 === 0 ? null : crop, created_at: now };
    inserts.push(events.insert(row));
  }
  await Promise.all(inserts);
  const files = 2 * N;
  let t0 = performance.now();
  let listed = 0;
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else listed++;
    }
  };
  walk(images.root);
  const baseMs = performance.now() - t0;
  t0 = performance.now();
  const r = await images.sweep(async (id, rel) => events.ownsImage(id, rel));
  const sweepMs = performance.now() - t0;
  console.log(`files:           ${files} (${r.removed.length} orphans removed, ${r.kept} kept)`);
  console.log(`readdir only:    ${baseMs.toFixed(0)} ms (baseline, ${listed} files)`);
  console.log(`startup sweep:   ${sweepMs.toFixed(0)} ms (${(sweepMs / baseMs).toFixed(1)}x baseline, ${((sweepMs / files) * 1e5 / 1000).toFixed(1)} s per 100k files)`);
  await events.close();
  db.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
