/**
 * Item 14: the events writer thread dies. Ingest never hangs on a dead thread: each event
 * whose insert was in flight is either committed (202) or refused with a retryable 503
 * (Retry-After, contract error body, nothing left on disk), a retry of a refused one is a
 * 202 (or a 409 when it was stored after all), and a fresh thread serves what follows.
 */
import t from 'tap';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { event, makeJpeg, startTestCloud, type TestCloud } from './helpers.js';
import { SqliteEventsStore, type EventRow } from '../../cloud/store/events-store.js';
import type { EventsStore } from '../../cloud/store/contracts.js';
import { openDb } from '../../cloud/db/open.js';
import { waitFor } from '../fixtures/wait.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';

type WriterInternals = { worker?: Worker; inflight: unknown[] | null };
// The service holds an async view of the SQLite store, whose fields read through to it (cloud/store/async-view.ts).
const writerOf = (store: SqliteEventsStore | EventsStore) => (store as unknown as { writer: WriterInternals }).writer;

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

/** Settles within `ms` or fails: a hang on a dead thread must fail the test, not time it out. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, rej) => setTimeout(() => rej(new Error(`${what}: no answer in ${ms} ms (hung on a dead writer?)`)), ms).unref())]);
}

const frame = makeJpeg('96x72');
const crop = makeJpeg('32x16');

function ingest(c: TestCloud, id: string): Promise<Response> {
  const fd = new FormData();
  fd.set('event', JSON.stringify(event(id, { timestamp: new Date().toISOString() })));
  fd.set('frame', new Blob([new Uint8Array(frame)], { type: 'image/jpeg' }), 'f.jpg');
  fd.set('crop', new Blob([new Uint8Array(crop)], { type: 'image/jpeg' }), 'c.jpg');
  return c.req('/events/ingest', { method: 'POST', key: c.apiKey, body: fd });
}

function row(id: string, now: number): EventRow {
  return { event_id: id, ts: now, camera_id: 'cam-1', zone_id: null, plate_text: 'ABC123', confidence: 0.9, processing_ms: null, body: '{}', frame_path: null, crop_path: null, created_at: now };
}

t.test('the writer thread killed while a batch is in flight: every ingest is a 202 that is stored or a 503 that is not; retries succeed; no hang', async (t) => {
  const c = await startTestCloud(t);
  const writer = writerOf(c.ctx.events);
  const images = join(c.dataDir, 'images');
  let refused = 0;
  let accepted = 0;
  for (let round = 0; round < 4; round++) {
    const ids = Array.from({ length: 24 }, (_, i) => `crash-${round}-${i}`);
    const answers = ids.map((id) => within(ingest(c, id), 30_000, id));
    // Kill the thread as a native crash would, while it holds a batch.
    await waitFor(() => writer.inflight !== null && writer.worker !== undefined, 'a batch in flight', 20_000, 0);
    await writer.worker!.terminate();
    const res = await Promise.all(answers);
    for (const [i, r] of res.entries()) {
      const id = ids[i]!;
      const stored = await c.ctx.events.get(id);
      if (r.status === 202) {
        accepted++;
        t.ok(stored?.frame_path && stored.crop_path, `${id}: a 202 is stored with its images`);
        continue;
      }
      t.equal(r.status, 503, `${id}: not stored → 503, never a 500 (got ${r.status})`);
      refused++;
      const body = (await r.json()) as Record<string, unknown>;
      t.equal(body.error_code, 'SERVICE_UNAVAILABLE');
      t.ok(body.request_id && body.timestamp && body.detail, 'the contract error body');
      t.equal(r.headers.get('retry-after'), '1', 'Retry-After');
      t.notOk(stored, `${id}: a 503 is not stored`);
      t.notOk(walk(images).some((f) => f.includes(`/${id}-`)), `${id}: a 503 leaves no image behind`);
      const again = await within(ingest(c, id), 30_000, `${id} retry`);
      t.equal(again.status, 202, `${id}: the retry is accepted`);
    }
  }
  t.comment(`accepted ${accepted}, refused then retried ${refused}`);
  // Every accepted event has exactly its two images; nothing else is on disk.
  const total = await c.ctx.events.countAll();
  t.equal(total, 4 * 24, 'every event stored once');
  t.equal(walk(images).length, total * 2, 'two images per event, no orphan');
  const after = await within(ingest(c, 'after-crash'), 30_000, 'ingest after the crashes');
  t.equal(after.status, 202, 'a fresh writer thread serves later ingests');
});

t.test('the thread dies before it saw the batch: the insert is refused with 503 and nothing is stored', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'anpr-writer-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const db = openDb(join(dir, 'anpr.db'));
  const store = new SqliteEventsStore(db);
  t.teardown(async () => {
    await store.close();
    db.close();
  });
  const writer = writerOf(store);
  const p = store.insert(row('lost-1', Date.now()));
  // Terminated before the thread has even started: the batch can only be lost.
  void writer.worker!.terminate();
  await t.rejects(within(p, 20_000, 'lost-1'), { code: 'SERVICE_UNAVAILABLE', status: 503 });
  t.notOk(store.exists('lost-1'), 'not stored');
  t.equal(await within(store.insert(row('lost-1', Date.now())), 20_000, 'retry'), 'inserted', 'the retry with the same event_id is stored');
  t.equal(await within(store.insert(row('lost-1', Date.now())), 20_000, 'repeat'), 'duplicate', 'and a repeat is a duplicate');
});

t.test('the thread dies after its commit but before its reply is read: the insert resolves as stored, a concurrent copy as a duplicate', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'anpr-writer-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'anpr.db');
  const db = openDb(file);
  const store = new SqliteEventsStore(db);
  t.teardown(async () => {
    await store.close();
    db.close();
  });
  const writer = writerOf(store);
  await store.insert(row('warm-up', Date.now()));
  const w = writer.worker!;
  // The reply is never read: the thread's answer is lost with it.
  w.removeAllListeners('message');
  const now = Date.now();
  const mine = store.insert(row('done-1', now));
  const copy = store.insert({ ...row('done-1', now), body: '{"copy":true}' });
  const spy = new Database(file, { readonly: true });
  t.teardown(() => spy.close());
  await waitFor(() => spy.prepare('SELECT 1 FROM events WHERE event_id = ?').get('done-1') !== undefined, 'the commit', 20_000, 5);
  await w.terminate();
  t.equal(await within(mine, 20_000, 'done-1'), 'inserted', 'committed before the crash → stored (202)');
  // The copy may have been in the committed batch or still queued: a duplicate either way.
  t.equal(await within(copy, 20_000, 'copy'), 'duplicate', 'the copy is a duplicate (409)');
  t.equal(store.get('done-1')!.body, '{}', 'the first one is what is stored');
  t.equal(await within(store.insert(row('next', Date.now())), 20_000, 'next'), 'inserted', 'a new thread serves the next insert');
});

t.test('the database locked past busy_timeout: the ingest is refused with a retryable 503, its images removed, and the retry is stored', async (t) => {
  const c = await startTestCloud(t);
  const images = join(c.dataDir, 'images');
  // The key's first use (its last_used_at write) and an event to correct, before the lock.
  t.equal((await ingest(c, 'before')).status, 202);
  const before = walk(images).sort();
  // Another connection (an admin command, say) holds the write lock for longer than 5 s.
  const other = new Database(join(c.dataDir, 'anpr.db'));
  t.teardown(() => other.close());
  other.exec('BEGIN IMMEDIATE');
  let held = true;
  t.teardown(() => held && other.exec('ROLLBACK'));
  const r = await within(ingest(c, 'locked-1'), 30_000, 'locked-1');
  t.equal(r.status, 503, `refused, not a 500 (got ${r.status})`);
  t.equal(r.headers.get('retry-after'), '1', 'Retry-After');
  t.equal(((await r.json()) as { error_code: string }).error_code, 'SERVICE_UNAVAILABLE');
  t.notOk(await c.ctx.events.exists('locked-1'), 'not stored');
  t.same(walk(images).sort(), before, 'its images removed');
  // A write on the service connection (a plate correction) is refused the same way.
  const fix = await c.req('/events/before', { method: 'PATCH', token: c.adminToken, json: { plate_text: 'XYZ789' } });
  t.equal(fix.status, 503, `a correction while locked is a 503 too (got ${fix.status})`);
  t.equal(fix.headers.get('retry-after'), '1');
  t.equal((await c.ctx.events.get('before'))!.plate_text, 'ABC123', 'and changed nothing');
  other.exec('ROLLBACK');
  held = false;
  t.equal((await within(ingest(c, 'locked-1'), 30_000, 'retry')).status, 202, 'the retry is stored');
});

t.test("a key's last_used_at write is bookkeeping: a database locked past busy_timeout does not refuse the request it authorises", async (t) => {
  const c = await startTestCloud(t);
  const key = (await c.ctx.apiKeys.create('first-use-while-locked')).key; // never used: its first use writes last_used_at
  const other = new Database(join(c.dataDir, 'anpr.db'));
  t.teardown(() => other.close());
  other.exec('BEGIN IMMEDIATE');
  let held = true;
  t.teardown(() => held && other.exec('ROLLBACK'));
  const r = await within(c.req('/config/cameras', { key }), 30_000, 'read while locked');
  t.equal(r.status, 200, `a read (WAL) is answered while another connection holds the write lock (got ${r.status})`);
  other.exec('ROLLBACK');
  held = false;
  const again = await c.req('/config/cameras', { key });
  t.equal(again.status, 200);
});
