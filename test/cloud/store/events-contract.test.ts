/**
 * The events store's contract (cloud/store/contracts.ts EventsStore) on both backends: SQLite
 * (SqliteEventsStore through asyncView) and PostgreSQL (PgEventsStore). Every method against
 * hand-made events; duplicates sequential and concurrent; plate corrections; a seeded property
 * test holding PostgreSQL's answers to SQLite's (and both to brute force) over a few thousand
 * random events across two monthly partitions and the default one; on PostgreSQL, concurrent
 * writers through several pools keeping rollups and sketches exact, a refused row failing
 * alone, durable commits, and batches whose commit went unanswered settled by what is stored.
 *
 * EVENTS_CONTRACT_SEED=<seed> replays a property run (its seed is printed);
 * EVENTS_CONTRACT_EVENTS changes its size (default 3000).
 */
import t from 'tap';
import type { Test } from 'tap';
import type pg from 'pg';
import { openPgPool } from '../../../cloud/db/pg/connect.js';
import { listPartitions, monthOf } from '../../../cloud/db/pg/partitions.js';
import { asyncView } from '../../../cloud/store/async-view.js';
import type { EventsStore } from '../../../cloud/store/contracts.js';
import type { Interval, StatsFilter } from '../../../cloud/store/event-stats.js';
import { SqliteEventsStore, type EventFilter, type EventRow, type ExportCursor, type SortField, type StoredEvent } from '../../../cloud/store/events-store.js';
import { PgEventsStore, type PgEventsStoreOptions } from '../../../cloud/store/pg/pg-events-store.js';
import { AppError } from '../../../shared/errors.js';
import { silentLogger } from '../../../shared/log.js';
import { eachBackend, postgresBackend, sqliteBackend, type Backend } from '../../fixtures/store-backends.js';
import { prng } from '../../fixtures/prng.js';
import { bruteForceRollups, eventRow, HOUR, matches, MINUTE, randomEvents, rollupKey, type RollupRow } from './event-rows.js';

function openStore(t: Test, b: Backend, opts: PgEventsStoreOptions = {}): EventsStore {
  const store: EventsStore = b.kind === 'sqlite' ? asyncView(new SqliteEventsStore(b.db, b.dbFile)) : new PgEventsStore(b.pool, silentLogger, opts);
  t.teardown(() => store.close());
  return store;
}

const ids = (items: readonly EventRow[]) => items.map((e) => e.event_id);
const withoutSeq = (items: readonly StoredEvent[]) => items.map(({ seq: _seq, ...rest }) => rest);
const SORTS: SortField[] = ['timestamp', 'confidence', 'plate_text'];
const INTERVALS: Interval[] = ['minute', 'hour', 'day', 'week'];

t.test('every method answers as the contract says, on both backends', (t) =>
  eachBackend(t, async (t, b) => {
    const store = openStore(t, b);
    const T0 = Date.UTC(2026, 10, 30, 23, 0); // the last hour of a month
    const e1 = eventRow({ ts: T0, decision_action: 'open', decision_alert: 0 });
    const e2 = eventRow({ ts: T0 + MINUTE, zone_id: 'zone-b', plate_text: 'XY999ZZ', confidence: null, processing_ms: null });
    const e3 = eventRow({ ts: T0 + MINUTE, camera_id: 'cam-2', plate_text: 'ab123cd', confidence: 0.75, processing_ms: 40, decision_action: 'deny', decision_alert: 0 });
    const e4 = eventRow({ ts: T0 + HOUR, camera_id: 'cam-2', zone_id: null, plate_text: 'MÜ-AB 12', confidence: 0.25, processing_ms: 10, decision_action: 'alert', decision_alert: 1, crop_path: 'y/m/d/crop.jpg' });
    const e5 = eventRow({ ts: T0 + HOUR + 1, camera_id: null, plate_text: 'KAB12', processing_ms: null, decision_action: 'open', decision_alert: 1 });
    for (const e of [e1, e2, e3, e4, e5]) t.equal(await store.insert(e), 'inserted', `${e.plate_text} inserted`);
    t.equal(await store.insert(e1), 'duplicate', 'the same event again is a duplicate');
    t.equal(await store.insert({ ...e1, body: '{}', ts: T0 + 5 * HOUR, created_at: T0 + 9 }), 'duplicate', 'another copy of its event_id too, at another time');

    t.same(await store.get(e4.event_id), { ...e4, seq: (await store.get(e4.event_id))!.seq }, 'get: the row as stored');
    t.type((await store.get(e4.event_id))!.seq, 'number');
    t.equal(await store.get('no-such-event'), undefined);
    t.equal(await store.exists(e5.event_id), true);
    t.equal(await store.exists('no-such-event'), false);
    t.equal(await store.ownsImage(e4.event_id, e4.crop_path!), true, 'ownsImage: its crop');
    t.equal(await store.ownsImage(e4.event_id, e4.frame_path!), true, 'and its frame');
    t.equal(await store.ownsImage(e4.event_id, e1.frame_path!), false, "another event's image");
    t.equal(await store.ownsImage('no-such-event', e1.frame_path!), false);
    t.equal(await store.countAll(), 5);

    const list = async (f: EventFilter, sort: SortField = 'timestamp', order: 'asc' | 'desc' = 'asc', skip = 0, limit = 10) => {
      const r = await store.list(f, sort, order, skip, limit);
      return { ids: ids(r.items), total: r.total };
    };
    const [i1, i2, i3, i4, i5] = ids([e1, e2, e3, e4, e5]);
    t.same(await list({}, 'timestamp', 'desc'), { ids: [i5, i4, i3, i2, i1], total: 5 }, 'newest first, ties by arrival');
    t.same(await list({}, 'confidence', 'asc'), { ids: [i2, i4, i1, i5, i3], total: 5 }, 'no confidence sorts lowest (first ascending)');
    t.same(await list({}, 'confidence', 'desc'), { ids: [i3, i5, i1, i4, i2], total: 5 }, '(last descending)');
    t.same(await list({}, 'plate_text', 'asc'), { ids: [i1, i5, i4, i2, i3], total: 5 }, 'plates in byte order');
    t.same(await list({}, 'timestamp', 'asc', 1, 2), { ids: [i2, i3], total: 5 }, 'skip and limit; the total of all');
    t.same(await list({}, 'timestamp', 'asc', 9, 2), { ids: [], total: 5 }, 'a page past the end');
    t.same(await list({ camera_id: 'cam-2' }), { ids: [i3, i4], total: 2 }, 'camera');
    t.same(await list({ zone_id: 'zone-a' }), { ids: [i1, i3, i5], total: 3 }, 'zone');
    t.same(await list({ start: T0 + MINUTE, end: T0 + HOUR }), { ids: [i2, i3, i4], total: 3 }, 'time bounds, both inclusive');
    t.same(await list({ plate_text: 'ab1' }), { ids: [i1, i3, i5], total: 3 }, 'partial plate, any case');
    t.same(await list({ plate_text: 'mü-' }), { ids: [i4], total: 1 }, 'three letters or more: non-ASCII letters fold too');
    t.same(await list({ plate_text: 'ü' }), { ids: [], total: 0 }, 'fewer: ASCII letters only (as SQLite LIKE)');
    t.same(await list({ plate_text: 'Ü' }), { ids: [i4], total: 1 });
    t.same(await list({ plate_text: 'B 1' }), { ids: [i4], total: 1 }, 'spaces are text');
    t.same(await list({ plate_text: '%' }), { ids: [], total: 0 }, 'pattern characters are text');
    t.same(await list({ plate_text: '.*' }), { ids: [], total: 0 });
    t.same(await list({ plate_text: '12' }), { ids: [i1, i3, i4, i5], total: 4 });
    t.same(await list({ plate_text: '' }), { ids: [i1, i2, i3, i4, i5], total: 5 }, 'an empty plate filter is none');
    t.same(await list({ min_confidence: 0.5 }), { ids: [i1, i3, i5], total: 3 }, 'min confidence leaves out events without one');
    t.same(await list({ action: 'open' }), { ids: [i1, i5], total: 2 }, 'decision action');
    t.same(await list({ alert: true }), { ids: [i4, i5], total: 2 }, 'alerted');
    t.same(await list({ alert: false }), { ids: [i1, i2, i3], total: 3 }, 'not alerted, no decision included');
    t.same(await list({ camera_id: 'cam-1', plate_text: 'xy9', end: T0 + MINUTE }), { ids: [i2], total: 1 }, 'filters combine');
    t.same(await list({ camera_id: 'cam-9' }), { ids: [], total: 0 });

    const walk = async (f: EventFilter, sort: SortField, order: 'asc' | 'desc', limit: number) => {
      const pages: string[][] = [];
      for (let after: ExportCursor | null = null, n = 0; n < 10; n++) {
        const page = await store.pageAfter(f, sort, order, after, limit);
        pages.push(ids(page.items));
        if (!page.next) break;
        after = page.next;
      }
      return pages;
    };
    t.same(await walk({}, 'confidence', 'asc', 2), [[i2, i4], [i1, i5], [i3]], 'pageAfter: keyset pages in list order');
    t.same(await walk({}, 'plate_text', 'desc', 3), [[i3, i2, i4], [i5, i1]]);
    t.same(await walk({ zone_id: 'zone-a' }, 'timestamp', 'desc', 3), [[i5, i3, i1], []], 'a full last page is followed by an empty one');
    t.same((await store.pageAfter({}, 'confidence', 'desc', null, 2)).next, { key: 0.5, seq: (await store.get(i5!))!.seq }, 'the cursor: sort key and seq');

    const stats = await store.stats({}, 'hour', T0 + 2 * HOUR);
    t.same(stats, {
      total_events: 5,
      avg_confidence: 0.5,
      min_confidence: 0.25,
      max_confidence: 0.75,
      unique_plates: 5,
      event_rate: { per_second: 0.000694, per_minute: 0.0417, per_hour: 2.5 },
      by_camera: { 'cam-1': { count: 2, avg_confidence: 0.5 }, 'cam-2': { count: 2, avg_confidence: 0.5 } },
      by_zone: { 'zone-a': { count: 3, avg_confidence: 0.5833 }, 'zone-b': { count: 1, avg_confidence: null } },
      timeline: [
        { timestamp: '2026-11-30T23:00:00Z', count: 3, avg_confidence: 0.625 },
        { timestamp: '2026-12-01T00:00:00Z', count: 2, avg_confidence: 0.375 },
      ],
    }, 'stats: totals, extremes, distinct plates, rate, per camera and zone, timeline');
    t.match(await store.stats({ camera_id: 'cam-2', start: T0 + 1, end: T0 + HOUR }, 'minute', T0), { total_events: 2, timeline: [{ timestamp: '2026-11-30T23:01:00Z' }, { timestamp: '2026-12-01T00:00:00Z' }] }, 'bounds inside buckets');
    t.match(await store.stats({ zone_id: 'zone-b' }, 'week', T0), { total_events: 1, unique_plates: 1, avg_confidence: null, timeline: [{ timestamp: '2026-11-30T00:00:00Z', count: 1 }] }, 'weeks start on Monday');
    t.match(await store.stats({ start: T0 - HOUR, end: T0 - 1 }, 'day', T0), { total_events: 0, unique_plates: 0, timeline: [] }, 'nothing in range');
    t.same(await store.recentRate(5, T0 + HOUR + 30_000), { perMinute: 0.4, avgProcessingMs: 10 }, 'recent rate: the last 5 minutes');
    t.same(await store.recentRate(90, T0 + HOUR + 30_000), { perMinute: 0.056, avgProcessingMs: 23.3 }, 'the last 90');
    t.same(await store.recentRate(5, T0 + 3 * HOUR), { perMinute: 0, avgProcessingMs: null }, 'none');

    await store.close();
    await t.rejects(store.insert(eventRow({ ts: T0 })), { code: 'SERVICE_UNAVAILABLE' }, 'closed: inserts are refused, retryable');
  }),
);

t.test('an event_id is stored once, inserted one after another or all at once', (t) =>
  eachBackend(t, async (t, b) => {
    const store = openStore(t, b);
    const ts = Date.UTC(2026, 11, 5, 10);
    const copies = Array.from({ length: 12 }, (_, i) => eventRow({ ts: ts + i, event_id: 'same-id', body: JSON.stringify({ copy: i }) }));
    const results = await Promise.all(copies.map((c) => store.insert(c)));
    t.equal(results.filter((r) => r === 'inserted').length, 1, 'one copy inserted');
    t.equal(results.filter((r) => r === 'duplicate').length, 11, 'every other one a duplicate');
    const stored = await store.get('same-id');
    t.same(stored && { ...stored, seq: 0 }, { ...copies[results.indexOf('inserted')]!, seq: 0 }, 'the one that said inserted is stored');
    t.equal(await store.insert(copies[0]!), 'duplicate', 'and later');
    t.equal(await store.countAll(), 1);
    t.equal((await store.list({}, 'timestamp', 'asc', 0, 10)).total, 1);
    t.equal((await store.stats({}, 'minute', ts)).total_events, 1, 'counted once in the rollups');
  }),
);

t.test('a plate correction keeps the original read and every change, also when corrections race', (t) =>
  eachBackend(t, async (t, b) => {
    const store = openStore(t, b);
    const e = eventRow({ ts: Date.UTC(2026, 11, 5, 10), plate_text: 'AB123CD' });
    await store.insert(e);
    const at1 = Date.UTC(2026, 11, 6, 8);
    const c1 = await store.correctPlate(e.event_id, 'AB123CE', 'op1', 'misread E', at1);
    t.equal(c1?.plate_text, 'AB123CE');
    t.same(JSON.parse(c1!.body).correction, {
      original_plate_text: 'AB123CD',
      corrected_by: 'op1',
      corrected_at: new Date(at1).toISOString(),
      history: [{ from: 'AB123CD', to: 'AB123CE', by: 'op1', at: new Date(at1).toISOString(), reason: 'misread E' }],
    });
    const c2 = await store.correctPlate(e.event_id, 'XB123CF', 'op2', null, at1 + 1000);
    const corr = JSON.parse(c2!.body).correction;
    t.equal(corr.original_plate_text, 'AB123CD', 'the first read stays');
    t.same(corr.history.map((h: { from: string; to: string; reason: string | null }) => [h.from, h.to, h.reason]), [['AB123CD', 'AB123CE', 'misread E'], ['AB123CE', 'XB123CF', null]]);
    t.same(await store.get(e.event_id), c2, 'stored as returned');
    t.same(ids((await store.list({ plate_text: 'xb1' }, 'timestamp', 'asc', 0, 5)).items), [e.event_id], 'found by its new text');
    t.equal((await store.list({ plate_text: 'AB123CD' }, 'timestamp', 'asc', 0, 5)).total, 0, 'not by the old one');
    t.equal(await store.correctPlate('no-such-event', 'X', 'op1', null), undefined, 'an unknown event');

    await Promise.all(Array.from({ length: 6 }, (_, i) => store.correctPlate(e.event_id, `RACE${i}`, `op${i}`, null, at1 + 2000 + i)));
    const history = JSON.parse((await store.get(e.event_id))!.body).correction.history as Array<{ from: string; to: string }>;
    t.equal(history.length, 8, 'every racing correction kept');
    t.ok(history.every((h, i) => i === 0 || h.from === history[i - 1]!.to), 'each one from the text the previous one left');
    t.equal(await store.countAll(), 1, 'counts do not change');
  }),
);

t.test('property: PostgreSQL answers every read as SQLite does, over random events in two monthly partitions and the default one', async (t) => {
  const seed = Number(process.env.EVENTS_CONTRACT_SEED ?? Math.floor(Math.random() * 2 ** 31));
  const n = Number(process.env.EVENTS_CONTRACT_EVENTS ?? 3000);
  t.comment(`seed ${seed} (EVENTS_CONTRACT_SEED=${seed} replays it), ${n} events`);
  const boundary = monthOf(Date.now())!.from; // this month's start: last month and this one get partitions
  const past = Date.UTC(2001, 4, 17, 3); // far before the partition window: the default partition
  const future = Date.UTC(new Date(boundary).getUTCFullYear(), new Date(boundary).getUTCMonth() + 6, 3); // far after it
  const rows = randomEvents(prng(seed), n, boundary, past, future);

  const sb = sqliteBackend(t);
  const pb = await postgresBackend(t);
  const sqlite = openStore(t, sb);
  // One batch in flight: rows take their seq in arrival order, as SQLite's single writer gives
  // them, so ties in a sort order (broken by seq) come out the same.
  const postgres = openStore(t, pb, { concurrency: 1 });
  const insertAll = async (store: EventsStore) => {
    const out: string[] = [];
    for (let i = 0; i < rows.length; i += 100) out.push(...(await Promise.all(rows.slice(i, i + 100).map((r) => store.insert(r)))));
    return out;
  };
  const [rs, rp] = await Promise.all([insertAll(sqlite), insertAll(postgres)]);
  t.same(rp, rs, 'the same inserted/duplicate answers');
  const seen = new Set<string>();
  const stored = rows.filter((r) => !seen.has(r.event_id) && seen.add(r.event_id));
  t.same(rs, rows.map((r) => (stored.includes(r) ? 'inserted' : 'duplicate')), 'a repeated event_id is a duplicate');

  const parts = (await listPartitions(pb.pool)).map((p) => p.name);
  t.ok([monthOf(boundary - 1)!.name, monthOf(boundary)!.name].every((m) => parts.includes(m)), `partitions made for the months inserted into (${parts.join(', ')})`);
  const inDefault = (await pb.pool.query('SELECT count(*) AS n FROM events_default')).rows[0].n;
  t.ok(inDefault > 0, `${inDefault} events in the default partition`);
  t.equal(inDefault, stored.filter((r) => r.ts < boundary - 40 * 86_400_000 || r.ts > boundary + 40 * 86_400_000).length, 'events of months without a partition are in the default one');

  t.equal(await postgres.countAll(), stored.length);
  t.equal(await sqlite.countAll(), stored.length);
  for (const r of [stored[0]!, stored[stored.length >> 1]!, stored[stored.length - 1]!]) {
    t.same(withoutSeq([(await postgres.get(r.event_id))!]), withoutSeq([(await sqlite.get(r.event_id))!]), 'get');
  }

  const T = (h: number) => boundary + h * HOUR;
  const filters: EventFilter[] = [
    {}, { camera_id: 'cam-1' }, { zone_id: 'zone-b' }, { camera_id: 'cam-2', zone_id: 'zone-a' },
    { start: T(-20) + 12_345, end: T(7) + 59_999 }, { start: T(-1) - 1 }, { end: T(0) - 1 }, { camera_id: 'cam-3', start: T(-30) + 61_001, end: T(30) - 17 },
    { start: past + 5 * HOUR + 7, end: past + 30 * HOUR }, { start: future },
    { plate_text: 'ab' }, { plate_text: 'A1' }, { plate_text: 'mü-' }, { plate_text: 'ü' }, { plate_text: 'Ä' }, { plate_text: '3 ' },
    { min_confidence: 0.5 }, { action: 'open' }, { alert: true }, { alert: false },
    { camera_id: 'cam-1', plate_text: '1', min_confidence: 0.2, start: T(-10) }, { zone_id: 'zone-a', action: 'deny', end: T(5) }, { camera_id: 'nope' },
  ];
  let lists = 0;
  for (const f of filters) {
    const want = stored.filter((e) => matches(e, f)).length;
    for (const sort of SORTS) {
      for (const order of ['asc', 'desc'] as const) {
        for (const [skip, limit] of [[0, 40], [57, 13]] as const) {
          const [a, b] = await Promise.all([sqlite.list(f, sort, order, skip, limit), postgres.list(f, sort, order, skip, limit)]);
          if (!(t.same(withoutSeq(b.items), withoutSeq(a.items), `list ${JSON.stringify(f)} ${sort} ${order} ${skip}+${limit}`) && t.equal(b.total, a.total) && t.equal(a.total, want, 'total as counted by hand'))) return;
          lists++;
        }
      }
    }
  }
  t.comment(`${lists} list pages compared`);

  for (const f of [{}, { camera_id: 'cam-1' }, { plate_text: 'A1' }, { min_confidence: 0.5, end: T(5) }] as EventFilter[]) {
    for (const sort of SORTS) {
      for (const order of ['asc', 'desc'] as const) {
        const walk = async (store: EventsStore) => {
          const out: Array<Omit<StoredEvent, 'seq'>> = [];
          const keys: Array<number | string> = [];
          for (let after: ExportCursor | null = null; ; ) {
            const page = await store.pageAfter(f, sort, order, after, 700);
            out.push(...withoutSeq(page.items));
            if (!page.next) break;
            keys.push(page.next.key);
            after = page.next;
          }
          return { out, keys };
        };
        const [a, b] = await Promise.all([walk(sqlite), walk(postgres)]);
        t.same(b, a, `pageAfter ${JSON.stringify(f)} ${sort} ${order}: every page and cursor`);
        t.same(a.out.map((e) => e.event_id), ids((await sqlite.list(f, sort, order, 0, n)).items), 'in the order of list');
      }
    }
  }

  const now = T(40);
  const statsFilters: StatsFilter[] = [
    {}, { camera_id: 'cam-2' }, { zone_id: 'zone-a' }, { camera_id: 'cam-1', zone_id: 'zone-b' },
    { start: T(-20) + 12_345, end: T(7) + 59_999 }, { start: T(-3) + 1 }, { end: T(2) - 1 }, { camera_id: 'cam-3', start: T(-30) + 61_001, end: T(30) - 17 },
    { start: past, end: future + 86_400_000 }, { start: T(0), end: T(0) }, { start: T(100), end: T(101) },
  ];
  for (const f of statsFilters) {
    for (const interval of INTERVALS) {
      const [a, b] = await Promise.all([sqlite.stats(f, interval, now), postgres.stats(f, interval, now)]);
      if (!t.same(b, a, `stats ${JSON.stringify(f)} by ${interval}`)) return;
    }
    t.equal((await sqlite.stats(f, 'day', now)).total_events, stored.filter((e) => matches(e, f)).length, 'total as counted by hand');
  }
  for (const minutes of [1, 5, 60, 1440]) {
    for (const at of [T(0), T(12) + 30_000, T(36)]) {
      const [a, b] = await Promise.all([sqlite.recentRate(minutes, at), postgres.recentRate(minutes, at)]);
      t.same(b, a, `recentRate ${minutes} min at ${new Date(at).toISOString()}`);
    }
  }
});

/** The rollup table as rows, and the sketches by key. */
async function storedRollups(pool: pg.Pool): Promise<{ rollups: RollupRow[]; sketches: Map<string, Uint8Array> }> {
  const rollups = (await pool.query('SELECT level, bucket, camera_id, zone_id, n, n_conf, sum_conf, min_conf, max_conf, n_proc, sum_proc FROM stats_rollup')).rows as RollupRow[];
  const sketches = new Map<string, Uint8Array>();
  for (const r of (await pool.query('SELECT level, bucket, camera_id, zone_id, regs FROM plates_hll')).rows) sketches.set(rollupKey(r), new Uint8Array(r.regs));
  return { rollups, sketches };
}

function sameRollups(t: Test, pool: pg.Pool, inserted: readonly EventRow[]): Promise<void> {
  return storedRollups(pool).then(({ rollups, sketches }) => {
    const want = bruteForceRollups(inserted);
    const byKey = (a: RollupRow, b: RollupRow) => rollupKey(a).localeCompare(rollupKey(b));
    t.same(rollups.sort(byKey), [...want.rollups.values()].sort(byKey), `every rollup row equals a brute-force count (${rollups.length} rows)`);
    t.same([...sketches.keys()].sort(), [...want.sketches.keys()].sort(), 'a sketch per hour and day key');
    t.ok([...want.sketches].every(([k, s]) => Buffer.from(s).equals(Buffer.from(sketches.get(k) ?? []))), 'each sketch holds exactly its plates (no lost update)');
  });
}

t.test('postgres: writers on several pools at once keep one copy per event_id and exact rollups and sketches', async (t) => {
  const b = await postgresBackend(t);
  const r = prng(Number(process.env.EVENTS_CONTRACT_SEED ?? 7));
  const dbs = await Promise.all([0, 1, 2].map(() => openPgPool(b.url, { max: 4 })));
  t.teardown(() => Promise.all(dbs.map((d) => d.close())));
  const stores = dbs.map((d) => new PgEventsStore(d.pool, silentLogger));
  // A few minutes either side of a midnight: every writer hits the same minute, hour and day rows.
  const midnight = Date.UTC(2026, 11, 5);
  const shared = Array.from({ length: 60 }, (_, i) => `shared-${i}`);
  const batches = stores.map((_, w) =>
    Array.from({ length: 300 }, (_, i) =>
      eventRow({
        ts: midnight + Math.floor((r() * 2 - 1) * 3 * MINUTE),
        event_id: i < shared.length ? shared[i]! : `w${w}-${i}`,
        camera_id: r() < 0.5 ? 'cam-1' : 'cam-2',
        zone_id: r() < 0.5 ? 'zone-a' : null,
        plate_text: `P${Math.floor(r() * 400)}`,
        confidence: r() < 0.1 ? null : Math.floor(r() * 1025) / 1024,
        processing_ms: r() < 0.2 ? null : Math.floor(r() * 300),
        created_at: w,
      }),
    ),
  );
  const results = await Promise.all(stores.map((s, w) => Promise.all(batches[w]!.map((e) => s.insert(e)))));
  await Promise.all(stores.map((s) => s.close()));
  const winners = new Map<string, EventRow[]>();
  results.forEach((rs, w) => rs.forEach((res, i) => res === 'inserted' && winners.set(batches[w]![i]!.event_id, [...(winners.get(batches[w]![i]!.event_id) ?? []), batches[w]![i]!])));
  t.ok(shared.every((id) => winners.get(id)?.length === 1), 'each shared event_id inserted by exactly one writer');
  t.equal(winners.size, shared.length + 3 * (300 - shared.length), 'every event stored');
  t.equal((await b.pool.query('SELECT count(*) AS n FROM events')).rows[0].n, winners.size, 'one row each');
  const won = [...winners.values()].map((w) => w[0]!);
  const stored = new Map((await b.pool.query('SELECT event_id, created_at FROM events WHERE event_id LIKE $1', ['shared-%'])).rows.map((x) => [x.event_id, x.created_at]));
  t.ok(won.filter((e) => e.event_id.startsWith('shared-')).every((e) => stored.get(e.event_id) === e.created_at), 'the copy stored is the one that was told inserted');
  await sameRollups(t, b.pool, won);
});

/** A pool whose connections record their statements and can be made to fail around COMMIT. */
async function spiedPool(t: Test, url: string) {
  const db = await openPgPool(url);
  t.teardown(() => db.close());
  const spy = { statements: [] as string[], failCommit: null as null | 'before' | 'after' | 'terminated' };
  db.pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...a: unknown[]) => Promise<unknown>;
    (client as { query: unknown }).query = async (...a: unknown[]) => {
      const text = typeof a[0] === 'string' ? a[0] : '';
      spy.statements.push(text);
      if (text === 'COMMIT' && spy.failCommit) {
        const when = spy.failCommit;
        spy.failCommit = null;
        if (when !== 'before') await query(...a);
        // node-postgres's own error for a connection the server dropped carries no code.
        if (when === 'terminated') throw new Error('Connection terminated unexpectedly');
        throw Object.assign(new Error(`connection reset ${when} COMMIT`), { code: 'ECONNRESET' });
      }
      return query(...a);
    };
  });
  return { pool: db.pool, spy };
}

t.test('postgres: commits are durable, a refused row fails alone, an unanswered commit is settled by what is stored', async (t) => {
  const b = await postgresBackend(t);
  const { pool, spy } = await spiedPool(t, b.url);
  const store = new PgEventsStore(pool, silentLogger, { concurrency: 1 });
  t.teardown(() => store.close());
  const ts = Date.UTC(2026, 11, 5, 9);

  const first = eventRow({ ts });
  t.equal(await store.insert(first), 'inserted');
  const tx = spy.statements.slice(spy.statements.lastIndexOf('BEGIN'));
  t.equal(tx[1], 'SET LOCAL synchronous_commit = on', 'the insert transaction waits for its WAL flush, whatever the server default');
  t.equal(tx[tx.length - 1], 'COMMIT');
  const e = eventRow({ ts });
  await store.insert(e);
  spy.statements.length = 0;
  await store.correctPlate(e.event_id, 'ZZ1', 'op', null);
  t.same(spy.statements.slice(0, 2), ['BEGIN', 'SET LOCAL synchronous_commit = on'], 'and so does a correction');

  // The first insert goes alone; the rest queue behind it and go as one batch.
  const good = Array.from({ length: 10 }, (_, i) => eventRow({ ts: ts + i, plate_text: `GOOD${i}` }));
  const bad = eventRow({ ts, plate_text: 'AB\u0000CD' });
  const all = [good[0]!, ...good.slice(1, 5), bad, ...good.slice(5)].map((x) => store.insert(x).then((r) => r, (err: unknown) => err));
  const settled = await Promise.all(all);
  t.same(settled.filter((x) => x === 'inserted').length, 10, 'every good row inserted');
  const refused = settled.find((x) => x !== 'inserted');
  t.ok(refused instanceof AppError && refused.code === 'VALIDATION_ERROR', 'the bad row alone refused, with a 400');
  t.equal(await store.countAll(), 12);

  const lost = eventRow({ ts: ts + 100 });
  spy.failCommit = 'after';
  t.equal(await store.insert(lost), 'inserted', 'committed but unanswered: found stored, so inserted');
  const dropped = eventRow({ ts: ts + 150 });
  spy.failCommit = 'terminated';
  t.equal(await store.insert(dropped), 'inserted', 'the same when the error has no SQLSTATE');
  const never = eventRow({ ts: ts + 200 });
  spy.failCommit = 'before';
  await t.rejects(store.insert(never), { code: 'SERVICE_UNAVAILABLE', extra: { retry_after_seconds: 2 } }, 'not committed: a retryable 503');
  t.equal(await store.exists(never.event_id), false, 'nothing stored');
  t.equal(await store.insert(never), 'inserted', 'its retry is stored once');
  // Rollups and sketches count the plate an event arrived with (a correction changes neither).
  await sameRollups(t, pool, [first, e, ...good, lost, dropped, never]);
});
