/**
 * The events database's single writer, on its own thread: a commit with synchronous=FULL
 * waits for fsync (milliseconds on real disks), and here that wait never blocks the HTTP
 * event loop. Each message is one batch, committed in one transaction together with the
 * rollups; the reply says, per row, whether it was inserted or already known.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openDb } from '../db/open.js';
import { RollupWriter } from './event-stats.js';
import { plateRecorder } from './plate-dictionary.js';
import type { EventRow } from './events-store.js';

export type WriterRequest = { id: number; rows: EventRow[] };
/** A failed batch was rolled back; `code` is SQLite's (SQLITE_BUSY, SQLITE_FULL, …) when it has one. */
export type WriterReply = { id: number; results: Array<'inserted' | 'duplicate'> } | { id: number; error: string; code?: string };

const db = openDb((workerData as { dbFile: string }).dbFile);
const rollups = new RollupWriter(db);
const insert = db.prepare(
  `INSERT OR IGNORE INTO events (event_id, ts, camera_id, zone_id, plate_text, confidence, processing_ms, body, frame_path, crop_path, created_at, decision_action, decision_alert)
   VALUES (@event_id, @ts, @camera_id, @zone_id, @plate_text, @confidence, @processing_ms, @body, @frame_path, @crop_path, @created_at, @decision_action, @decision_alert)`,
);
const recordPlate = plateRecorder(db);

// Run as BEGIN IMMEDIATE: the write lock is taken (waiting up to busy_timeout) before
// anything is read, so the service connection's writes can never make a batch fail.
const commit = db.transaction((rows: EventRow[]) => {
  const results: Array<'inserted' | 'duplicate'> = [];
  const inserted: EventRow[] = [];
  for (const r of rows) {
    // Rows made without a decision (older callers) bind null: every named parameter must be given.
    const info = insert.run({ decision_action: null, decision_alert: null, ...r });
    if (info.changes === 0) {
      results.push('duplicate');
      continue;
    }
    results.push('inserted');
    recordPlate(r.plate_text);
    inserted.push(r);
  }
  rollups.apply(inserted);
  return results;
});

parentPort!.on('message', (msg: WriterRequest | 'close') => {
  if (msg === 'close') {
    db.close();
    parentPort!.postMessage('closed');
    return;
  }
  let reply: WriterReply;
  try {
    reply = { id: msg.id, results: commit.immediate(msg.rows) };
  } catch (e) {
    reply = { id: msg.id, error: (e as Error).message, code: (e as { code?: string }).code };
  }
  parentPort!.postMessage(reply);
});
