/**
 * `anpr cloud migrate` (cloud/store/pg/migrate-from-sqlite.ts): a SQLite cloud filled through its
 * API, copied into PostgreSQL in interrupted runs (each resuming, with other batch sizes), holds
 * exactly the rows of one uninterrupted copy, and the cloud started on it answers as the SQLite
 * one did: event pages and totals, statistics, config, lists, users' passwords, a web sign-in's
 * refresh token, an access token, the edge's key, the image bytes.
 */
import t from 'tap';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { migrate as migrateSqlite } from '../../../cloud/db/migrations.js';
import { migrate as migratePg } from '../../../cloud/db/pg/migrations.js';
import { importSqliteCloud, type SqliteImportResult } from '../../../cloud/store/pg/migrate-from-sqlite.js';
import { IMPORT_TABLES } from '../../../cloud/store/pg/sqlite-import-tables.js';
import { startPostgresCluster } from '../../fixtures/postgres.js';
import { heartbeatBody } from '../../fixtures/edge-heartbeat.js';
import { event, makeJpeg, startTestCloud, type TestCloud } from '../helpers.js';
import { dump, poolOf, tempDir } from './import-helpers.js';

const cluster = await startPostgresCluster(t);

t.test('every table and column of the SQLite schema is copied, and fills every PostgreSQL column', async (t) => {
  const sqlite = new Database(':memory:');
  migrateSqlite(sqlite);
  const tables = sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'plates_fts%' ORDER BY name").pluck().all() as string[];
  t.same(IMPORT_TABLES.map((x) => x.name).sort(), tables, 'each table once');
  const url = await cluster.createDatabase();
  const pool = poolOf(t, url);
  await migratePg(pool);
  for (const spec of IMPORT_TABLES) {
    const lite = (sqlite.prepare('SELECT name FROM pragma_table_info(?)').pluck().all(spec.name) as string[]).filter((c) => !(c in (spec.skipped ?? {}))).sort();
    t.same(spec.columns.map(([c]) => c).sort(), lite, `${spec.name}: every SQLite column read`);
    const have = (await pool.query<{ c: string }>('SELECT column_name AS c FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1', [spec.name])).rows.map((r) => r.c).sort();
    t.same([...spec.columns, ...(spec.derived?.columns ?? [])].map(([c]) => c).sort(), have, `${spec.name}: every PostgreSQL column written`);
  }
  sqlite.close();
});

const T0 = Date.parse('2023-12-31T21:00:00.000Z'); // events on both sides of a month boundary: two partitions
const iso = (ms: number) => new Date(ms).toISOString();
const square = { type: 'polygon', points: [{ x: 100, y: 200 }, { x: 500, y: 200 }, { x: 500, y: 600 }, { x: 100, y: 600 }] };
const decision = (action: string, alert = false) => ({
  action, list: { id: 'list-001', name: 'Staff', type: action === 'deny' ? 'deny' : 'allow' }, entry_label: null, matched_plate: 'AB123',
  distance: 0, direction: 'in', alert, reason: 'test', latency_ms: 300,
});

async function ok(c: TestCloud, method: string, path: string, opts: { token?: string; key?: string; json?: unknown; body?: FormData }, expect: number): Promise<any> {
  const r = await c.req(path, { method, token: opts.key ? undefined : (opts.token ?? c.adminToken), key: opts.key, json: opts.json, body: opts.body });
  const text = await r.text();
  if (r.status !== expect) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** A SQLite cloud with some of everything, all of it through the API. */
async function populate(c: TestCloud) {
  for (const id of ['cam-001', 'cam-002']) await ok(c, 'POST', '/config/cameras', { json: { id, name: id, rtsp_url: `rtsp://127.0.0.1:8554/${id}`, edge_id: 'edge-001' } }, 201);
  await ok(c, 'POST', '/config/zones', { json: { id: 'zone-001', name: 'Gate', camera_id: 'cam-001', geometry: square } }, 201);
  await ok(c, 'POST', '/config/sensors', { json: { name: 'Loop', type: 'loop', zone_id: 'zone-001', config: { pin: 4 } } }, 201);
  await ok(c, 'POST', '/config/lists', { json: { name: 'Staff', type: 'allow', entries: [{ plate: 'AB123', label: 'Alice' }, { plate: 'XY 98', rfid: 'tag-1' }, { plate: 'KL555' }] } }, 201);
  await ok(c, 'POST', '/config/lists', { json: { name: 'Watch', type: 'watch', edge_id: 'edge-001', enabled: false, entries: [{ plate: 'ZZ999' }] } }, 201);
  await ok(c, 'POST', '/config/lists/list-001/entries', { json: { entries: [{ plate: 'MN777', label: 'Bob' }] } }, 200);
  await ok(c, 'POST', '/users', { json: { username: 'op', password: 'operator-password-1', role: 'operator' } }, 201);
  await ok(c, 'POST', '/users', { json: { username: 'viv', password: 'viewer-password-1', role: 'viewer' } }, 201);
  await ok(c, 'PATCH', '/users/viv', { json: { disabled: true } }, 200);
  const gateKey = (await ok(c, 'POST', '/api-keys', { json: { edge_id: 'gate-2', name: 'gate two' } }, 201)).key as string;
  await ok(c, 'POST', '/api-keys', { json: { edge_id: 'gate-3' } }, 201);
  const plates = ['AB123', 'ABC123', 'XY98', 'KL555', 'BC1234', 'ZZ999'];
  for (let i = 0; i < 40; i++) {
    const extra: Record<string, unknown> = {
      timestamp: iso(T0 + i * 7 * 60_000 + (i % 3) * 1_000),
      camera_id: i % 3 === 0 ? 'cam-002' : 'cam-001',
      zone_id: i % 4 === 0 ? null : 'zone-001',
      plate_text: plates[i % plates.length],
      confidence: i % 9 === 0 ? null : Math.round((0.5 + (i % 7) / 14) * 1000) / 1000,
      ...(i % 5 === 0 ? { decision: decision(i % 10 === 0 ? 'deny' : 'open', i % 15 === 0) } : {}),
    };
    if (i % 11 === 0) extra.metadata = { edge_worker_id: 'edge-001' }; // no processing time
    await ok(c, 'POST', '/events/ingest', { key: c.apiKey, json: event(`evt-${String(i).padStart(3, '0')}`, extra) }, 202);
  }
  const images: Record<string, Buffer> = {};
  const frame = makeJpeg('96x64');
  const crop = makeJpeg('32x16');
  for (const i of [1, 2]) {
    const fd = new FormData();
    fd.set('event', JSON.stringify(event(`evt-img-${i}`, { timestamp: iso(T0 + 3_600_000 + i), plate_text: 'IMG00' + i })));
    fd.set('frame', new Blob([new Uint8Array(frame)], { type: 'image/jpeg' }), 'frame.jpg');
    fd.set('crop', new Blob([new Uint8Array(crop)], { type: 'image/jpeg' }), 'crop.jpg');
    await ok(c, 'POST', '/events/ingest', { key: c.apiKey, body: fd }, 202);
    images[`/events/evt-img-${i}/frame`] = frame;
    images[`/events/evt-img-${i}/crop`] = crop;
  }
  await ok(c, 'PATCH', '/events/evt-004', { json: { plate_text: 'AB1234', reason: 'misread' } }, 200);
  await ok(c, 'PATCH', '/events/evt-004', { json: { plate_text: 'AB1235' } }, 200);
  await ok(c, 'POST', '/edges/edge-001/heartbeat', { key: c.apiKey, json: heartbeatBody() }, 200);
  return { images, gateKey };
}

/** The answers compared before and after: searches, pages and totals, statistics, config, lists, users. */
function questions(): string[] {
  const day = 86_400_000;
  const q = [
    '/events?limit=7', '/events?limit=7&skip=7', '/events?limit=1000', '/events?camera_id=cam-002&limit=5&skip=3',
    '/events?zone_id=zone-001&sort_by=confidence&sort_order=asc&limit=50', '/events?plate_text=bc12&limit=50',
    '/events?plate_text=AB123&limit=50', '/events?sort_by=plate_text&sort_order=desc&limit=9&skip=4', '/events?min_confidence=0.7&limit=50',
    `/events?start_date=${iso(T0 + 2 * 3_600_000)}&end_date=${iso(T0 + 4 * 3_600_000)}&limit=50`, '/events?action=deny&limit=50', '/events?alert=true&limit=50',
    '/events/evt-004', '/events/evt-004/correction', '/events/evt-img-1', '/events/evt-img-2',
    '/config/cameras', '/config/zones', '/config/sensors', '/config/lists', '/config/lists?type=watch', '/config/lists?enabled=false',
    '/config/lists/list-001', '/config/lists/list-001/entries', '/config/lists/list-001/entries?limit=2&skip=1', '/config/lists/list-002/entries',
    '/users',
  ];
  for (const interval of ['minute', 'hour', 'day']) q.push(`/events/stats?start_date=${iso(T0)}&end_date=${iso(T0 + day)}&interval=${interval}`);
  q.push(`/events/stats?camera_id=cam-001&start_date=${iso(T0 + 1_000)}&end_date=${iso(T0 + 3 * 3_600_000 + 500)}&interval=hour`);
  q.push(`/events/stats?zone_id=zone-001&start_date=${iso(T0 - day)}&end_date=${iso(T0 + 2 * day)}&interval=day`);
  return q;
}

async function answers(c: TestCloud, token: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const path of questions()) {
    const r = await c.req(path, { token });
    out[path] = { status: r.status, body: await r.json() };
  }
  return out;
}

t.test('a SQLite cloud copied in interrupted runs answers the same on PostgreSQL', async (t) => {
  const dir = tempDir(t);
  const lite = await startTestCloud(t, { databaseUrl: undefined }, dir);
  const { images, gateKey } = await populate(lite);
  const login = await ok(lite, 'POST', '/auth/login', { json: { username: 'op', password: 'operator-password-1' } }, 200);
  const before = await answers(lite, lite.adminToken);
  await lite.close();

  // Interrupted twice, with other batch sizes each time: the cursors are keys, not batch numbers.
  const url = await cluster.createDatabase();
  const lines: string[] = [];
  const progress = (l: string) => lines.push(l);
  const runs: SqliteImportResult[] = [];
  runs.push(await importSqliteCloud({ from: dir, to: url, batchSize: 3, stopAfterBatches: 9, progress }));
  runs.push(await importSqliteCloud({ from: dir, to: url, batchSize: 7, stopAfterBatches: 6, progress }));
  runs.push(await importSqliteCloud({ from: dir, to: url, batchSize: 13, stopAfterBatches: 8, progress }));
  runs.push(await importSqliteCloud({ from: dir, to: url, batchSize: 5, stopAfterBatches: 2, progress }));
  runs.push(await importSqliteCloud({ from: dir, to: url, progress }));
  t.same(runs.map((r) => r.state), ['interrupted', 'interrupted', 'interrupted', 'interrupted', 'finished'], 'four runs stopped, the fifth finished');
  const stops = lines.filter((l) => / stopped after /.test(l)).map((l) => l.replace(/; .*/, ''));
  t.same(stops, ['list_entries: stopped after 0 of 5 rows', 'stats_rollup: stopped after 21 of 69 rows', 'events: stopped after 13 of 42 rows', 'events: stopped after 23 of 42 rows'], 'between tables, within the rollups, twice within the events');
  t.match(lines.join('\n'), /stopped after .*; run the same command again to continue\nResuming the copy of/, 'each stop says how to go on');
  const final = runs.at(-1)!;
  t.same(final.counts.filter((c) => c.sqlite !== c.postgres), [], 'every count matches');
  const count = (name: string) => final.counts.find((c) => c.table === name)!;
  t.match(count('events'), { sqlite: 42, postgres: 42 });
  t.match(count('event_ids'), { sqlite: 42, postgres: 42 }, 'one event_ids row per event');
  t.ok(count('stats_rollup').postgres > 0 && count('plates_hll').postgres > 0 && count('list_entries').postgres === 5 && count('refresh_tokens').postgres === 1);
  t.equal(final.imagesDir, join(dir, 'images'));

  // The same rows as one uninterrupted copy; running again changes nothing.
  const resumed = poolOf(t, url);
  const once = await cluster.createDatabase();
  t.equal((await importSqliteCloud({ from: dir, to: once })).state, 'finished');
  const onceDump = await dump(poolOf(t, once));
  t.same(await dump(resumed), onceDump, 'interrupted and resumed = copied at once, row for row');
  t.equal((await importSqliteCloud({ from: dir, to: url })).state, 'finished', 'a run after the end checks again');
  t.same(await dump(resumed), onceDump, 'and writes nothing');
  const parts = (await resumed.query("SELECT c.relname AS p, count(e.*)::int AS n FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid LEFT JOIN events e ON e.tableoid = c.oid WHERE i.inhparent = 'events'::regclass GROUP BY 1 ORDER BY 1")).rows;
  const december = (await resumed.query<{ n: number }>("SELECT count(*)::int AS n FROM events WHERE ts < $1", [Date.parse('2024-01-01T00:00:00Z')])).rows[0]!.n;
  t.same(parts.filter((p) => p.n > 0), [{ p: 'events_y2023m12', n: december }, { p: 'events_y2024m01', n: 42 - december }], 'events in the partitions of their months');

  const cloud = await startTestCloud(t, { databaseUrl: url }, dir);
  t.equal(cloud.ctx.database.kind, 'postgres');
  const after = await answers(cloud, lite.adminToken);
  for (const path of questions()) {
    t.equal((before[path] as { status: number }).status, 200, `${path}: answered by SQLite`);
    t.same(after[path], before[path], `${path}: the same answer from PostgreSQL`);
  }
  for (const [path, bytes] of Object.entries(images)) {
    const r = await cloud.req(path, { token: cloud.adminToken });
    t.same(Buffer.from(await r.arrayBuffer()), bytes, `${path}: the same bytes, from the same image directory`);
  }
  t.equal((await cloud.req('/auth/me', { token: login.access_token })).status, 200, 'an access token issued by the SQLite cloud is still valid');
  // The admin signed in with its password to start this test cloud; a user added later does too.
  t.ok(await cloud.token('op', 'operator-password-1'), 'users sign in with their passwords');
  const refreshed = await cloud.req('/auth/refresh', { method: 'POST', json: { refresh_token: login.refresh_token } });
  t.equal(refreshed.status, 200, "the web sign-in's refresh token rotates on PostgreSQL");
  t.equal((await cloud.req('/events/ingest', { method: 'POST', key: lite.apiKey, json: event('evt-after', { timestamp: iso(T0 + 5_000) }) })).status, 202, "the edge's key still ingests");
  t.equal((await cloud.req('/edges/gate-2/heartbeat', { method: 'POST', key: gateKey, json: heartbeatBody({ instance_id: 'inst-bbbbbbbb-0002' }) })).status, 200, 'and so does every other key');
  t.equal((await ok(cloud, 'GET', '/events?limit=1', {}, 200)).total, 43);
  const seqs = (await resumed.query<{ after: number; before: number }>("SELECT max(seq) FILTER (WHERE event_id = 'evt-after') AS after, max(seq) FILTER (WHERE event_id <> 'evt-after') AS before FROM events")).rows[0]!;
  t.ok(seqs.after > seqs.before, `a new event takes the next sequence number (${seqs.after} > ${seqs.before}): ties in every order break as before`);
  const created = await ok(cloud, 'POST', '/config/cameras', { json: { name: 'third', rtsp_url: 'rtsp://127.0.0.1:8554/c3', edge_id: 'edge-001' } }, 201);
  t.equal(created.id, 'cam-003', 'a new id does not collide with a copied one');
});
