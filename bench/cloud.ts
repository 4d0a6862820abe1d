/**
 * Cloud benchmark (`npm run bench -- cloud`). Server in its own process, load from this one.
 *  1. Ingest: JSON events/s over 50 keep-alive connections, against a trivial Hono route
 *     (bench/trivial-server.ts) measured in the same run; prints the ratio.
 *  2. With 1,000,000 events stored: GET /events (with filters) and GET /events/stats latency,
 *     p50/p95 over a fixed mix of queries (and p50/max of each query of the mix).
 * Env: BENCH_SECONDS (ingest duration, default 10), BENCH_EVENTS (default 1000000; 0 = ingest only),
 * BENCH_DIR (where the 1M-event database is kept between runs, default /tmp/anpr-bench-1m),
 * BENCH_DATABASE (sqlite, the default, or postgres).
 *
 * BENCH_DATABASE=postgres runs both parts on PostgreSQL 15 (Debian's, /usr/lib/postgresql/15/bin):
 * the bench starts its own cluster on 127.0.0.1 (test/fixtures/postgres.ts, as the system user
 * anpr-pg-test when run as root) in BENCH_DIR-pg, kept between runs as BENCH_DIR is, so a rerun
 * does not seed again. Unlike the test clusters, it runs with production durability: fsync,
 * synchronous_commit and full_page_writes on, PostgreSQL's default shared_buffers (128MB) and
 * max_connections (100); the output prints what the server reports. Ingest goes to a fresh
 * database (dropped after); the events are seeded through the cloud's own PostgreSQL events
 * store (its group-committed insert, so rows, rollups and sketches are the product's), then
 * VACUUM ANALYZE and CHECKPOINT, as SQLite's seed ends with ANALYZE and a WAL checkpoint.
 * Both backends get the same seeded rows (one PRNG sequence from event 0).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Pool } from 'undici';
import WebSocket from 'ws';
import { openCloudData } from '../cloud/server.js';
import { SqliteEventsStore, type EventRow } from '../cloud/store/events-store.js';
import { openPgBackend } from '../cloud/store/pg/pg-backend.js';
import { startPostgresCluster, type PgCluster } from '../test/fixtures/postgres.js';

const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const N_EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const BIG_DIR = process.env.BENCH_DIR ?? '/tmp/anpr-bench-1m';
const DATABASE = process.env.BENCH_DATABASE || 'sqlite';
/** The seeded PostgreSQL cluster, kept beside BENCH_DIR. */
export const PG_DIR = `${BIG_DIR}-pg`;
/**
 * Production durability, not the test clusters' (fsync off): every commit waits for its WAL
 * flush to disk. shared_buffers and max_connections are PostgreSQL's own defaults.
 */
export const PG_PRODUCTION_SETTINGS = { fsync: 'on', synchronous_commit: 'on', full_page_writes: 'on', shared_buffers: '128MB', max_connections: '100' };

export function startProc(script: string, args: string[]): Promise<{ child: ChildProcess; port: number; key?: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', here(script), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /listening (\d+)(?: (\S+))?/.exec(out);
      if (m) resolve({ child, port: Number(m[1]), key: m[2] });
    });
    child.once('exit', (code) => reject(new Error(`${script} exited ${code}`)));
  });
}

export const stop = (c: ChildProcess) => new Promise<void>((r) => (c.once('exit', () => r()), c.kill('SIGTERM')));

async function load(port: number, headers: Record<string, string>, seconds: number, tag: string, pid?: number): Promise<{ rate: number; cpuUsPerReq: number }> {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 50, pipelining: 1 });
  let done = 0;
  let errors = 0;
  let seq = 0;
  const end = Date.now() + seconds * 1000;
  const worker = async () => {
    while (Date.now() < end) {
      const id = `${tag}-${process.pid}-${seq++}`;
      const body = JSON.stringify({
        event_id: id,
        timestamp: new Date().toISOString(),
        camera_id: `cam-00${seq % 4}`,
        zone_id: 'zone-entrance',
        plate_text: `AB${seq % 10000}`,
        confidence: 0.9,
        raw_candidates: [{ text: 'ABC123', confidence: 0.9, model: 'fast-plate-ocr' }],
        metadata: { edge_worker_id: 'edge-001', processing_time_ms: 120 },
      });
      const r = await pool.request({ path: '/events/ingest', method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
      await r.body.dump();
      if (r.statusCode === 202) done++;
      else errors++;
    }
  };
  const t0 = Date.now();
  const c0 = pid ? cpuMs(pid) : 0;
  await Promise.all(Array.from({ length: 50 }, worker));
  const rate = done / ((Date.now() - t0) / 1000);
  const cpuUsPerReq = pid ? ((cpuMs(pid) - c0) * 1000) / Math.max(1, done + errors) : 0;
  await pool.close();
  if (errors) console.log(`  (${tag}: ${errors} non-202 answers)`);
  return { rate, cpuUsPerReq };
}

/** CPU time (user + system, ms) a process has used so far, from /proc. */
function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
}

export function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

/** The seeded events, the same for both backends: event `j` of `n`, from one PRNG sequence started at event 0. */
function* seedRows(n: number): Generator<EventRow> {
  const start = Date.parse('2026-10-01T00:00:00Z');
  const span = 30 * 86_400_000;
  let x = 12345;
  const rnd = () => ((x = (x * 1103515245 + 12345) >>> 0) / 4294967296);
  const letters = 'ABCDEFGHJKLMNPRSTUVWXYZ';
  for (let j = 0; j < n; j++) {
    const p = Math.floor(rnd() * 50_000);
    const plate = `${letters[p % 23]}${letters[Math.floor(p / 23) % 23]}${letters[Math.floor(p / 529) % 23]}${String(p % 1000).padStart(3, '0')}`;
    yield {
      event_id: `seed-${j}`,
      ts: start + Math.floor((j / n) * span) + Math.floor(rnd() * 1000),
      camera_id: `cam-00${j % 8}`,
      zone_id: `zone-${j % 4}`,
      plate_text: plate,
      confidence: Math.round((0.5 + rnd() / 2) * 1000) / 1000,
      processing_ms: 100 + Math.floor(rnd() * 100),
      body: JSON.stringify({ raw_candidates: [{ text: plate, confidence: 0.9, model: 'fast-plate-ocr' }], vehicle_info: null, tpms_status: null, metadata: { edge_worker_id: 'edge-001' } }),
      frame_path: null,
      crop_path: null,
      created_at: Date.now(),
    };
  }
}

const CHUNK = 10_000;

/**
 * Inserts the seed rows from `have` on (rounded down to a chunk: every earlier chunk was settled
 * before the next was sent, and a repeat is a duplicate, stored once), `CHUNK` at a time through
 * the store's own insert. Returns the seconds it took.
 */
async function insertSeed(store: { insert(row: EventRow): Promise<unknown> }, have: number, n: number): Promise<number> {
  const from = Math.floor(have / CHUNK) * CHUNK;
  const t0 = Date.now();
  let batch: Promise<unknown>[] = [];
  let j = 0;
  for (const row of seedRows(n)) {
    if (j++ < from) continue;
    batch.push(store.insert(row));
    if (batch.length === CHUNK || j === n) {
      await Promise.all(batch);
      batch = [];
      if (j % 100_000 === 0 || j === n) {
        const s = (Date.now() - t0) / 1000;
        console.log(`    ${j.toLocaleString('en')} stored, ${s.toFixed(0)} s, ${((j - from) / s).toFixed(0)} events/s`);
      }
    }
  }
  return (Date.now() - t0) / 1000;
}

async function seedSqlite(dir: string, n: number): Promise<void> {
  const d = openCloudData(dir);
  const store = new SqliteEventsStore(d.db);
  const have = store.countAll();
  if (have >= n) {
    d.db.close();
    return;
  }
  console.log(`  seeding ${n - have} events into ${dir} (kept for later runs)…`);
  const took = await insertSeed(store, have, n);
  await store.close();
  d.db.pragma("wal_checkpoint(TRUNCATE)");
  d.db.exec('ANALYZE');
  d.db.close();
  console.log(`  seeded in ${took.toFixed(0)} s`);
}

/** The seed on PostgreSQL, through the cloud's own backend (migrations, partitions, events store). */
async function seedPostgres(url: string, n: number): Promise<void> {
  const backend = await openPgBackend(url, { refreshTtlMs: 86_400_000 });
  const store = backend.stores.events;
  const have = await store.countAll();
  if (have >= n) {
    await backend.close();
    return;
  }
  console.log(`  seeding ${n - have} events into ${PG_DIR} (kept for later runs)…`);
  const took = await insertSeed(store, have, n);
  await backend.close();
  const t0 = Date.now();
  await withClient(url, async (c) => {
    await c.query('VACUUM (ANALYZE)');
    await c.query('CHECKPOINT');
  });
  console.log(`  seeded in ${took.toFixed(0)} s (then VACUUM ANALYZE + CHECKPOINT ${((Date.now() - t0) / 1000).toFixed(0)} s)`);
}

/** One client on `url` (no statement timeout), ended after `fn`. */
export async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Database `name` on `cluster`, made empty first when `fresh`, created when missing; its URL. */
export async function database(cluster: PgCluster, name: string, fresh: boolean): Promise<string> {
  const exists = await withClient(cluster.url(), async (c) => {
    if (fresh) await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    return (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount! > 0;
  });
  return exists ? cluster.url(name) : cluster.createDatabase(name);
}

const round1 = (x: number) => Math.round(x * 10) / 10;

async function latency(port: number, token: string, paths: string[], rounds: number): Promise<{ p50: number; p95: number; n: number; each: Array<{ path: string; p50: number; max: number }> }> {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 1 });
  const ms: number[] = [];
  const byPath = new Map<string, number[]>(paths.map((p) => [p, []]));
  for (let r = 0; r < rounds; r++) {
    for (const path of paths) {
      const t0 = performance.now();
      const res = await pool.request({ path, method: 'GET', headers: { authorization: `Bearer ${token}` } });
      await res.body.text();
      if (res.statusCode !== 200) throw new Error(`${path} → ${res.statusCode}`);
      const took = performance.now() - t0;
      ms.push(took);
      byPath.get(path)!.push(took);
    }
  }
  await pool.close();
  const each = paths.map((path) => ({ path, p50: round1(pct(byPath.get(path)!, 50)), max: round1(Math.max(...byPath.get(path)!)) }));
  return { p50: round1(pct(ms, 50)), p95: round1(pct(ms, 95)), n: ms.length, each };
}

function printEach(each: Array<{ path: string; p50: number; max: number }>, rounds: number): void {
  for (const e of each) console.log(`    p50 ${String(e.p50).padStart(6)} ms, max ${String(e.max).padStart(6)} ms of ${rounds}  ${e.path}`);
}

export const load1 = () => `load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} on ${cpus().length} cores`;

/** Ingest → WebSocket delivery latency for three subscribers (all, one camera, one zone). */
async function streamLatency(port: number, key: string, token: string, n: number): Promise<{ p50: number; p95: number; max: number; received: number; expected: number }> {
  const sent = new Map<string, number>();
  const ms: number[] = [];
  const subs = await Promise.all(
    ['', '&camera_id=cam-001', '&zone_id=zone-b'].map(
      (f) =>
        new Promise<WebSocket>((resolve, reject) => {
          const ws = new WebSocket(`ws://127.0.0.1:${port}/events/stream?token=${token}${f}`);
          ws.on('message', (d) => {
            const id = JSON.parse(d.toString()).data.event_id as string;
            ms.push(performance.now() - sent.get(id)!);
          });
          ws.once('open', () => resolve(ws));
          ws.once('error', reject);
        }),
    ),
  );
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 10 });
  let expected = 0;
  for (let i = 0; i < n; i += 10) {
    await Promise.all(
      Array.from({ length: 10 }, async (_, j) => {
        const k = i + j;
        const cam = `cam-00${k % 3}`;
        const zone = k % 2 ? 'zone-a' : 'zone-b';
        expected += 1 + (cam === 'cam-001' ? 1 : 0) + (zone === 'zone-b' ? 1 : 0);
        const id = `ws-${k}-${Date.now()}`;
        sent.set(id, performance.now());
        const r = await pool.request({ path: '/events/ingest', method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': key }, body: JSON.stringify({ event_id: id, camera_id: cam, zone_id: zone, plate_text: 'ABC123', confidence: 0.9 }) });
        await r.body.dump();
      }),
    );
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, 500));
  subs.forEach((s) => s.close());
  await pool.close();
  return { p50: Math.round(pct(ms, 50) * 10) / 10, p95: Math.round(pct(ms, 95) * 10) / 10, max: Math.round(Math.max(...ms) * 10) / 10, received: ms.length, expected };
}

/** Where the bench's servers keep their events: SQLite files in a data dir, or a PostgreSQL database. */
interface Backend {
  label: 'sqlite' | 'postgresql';
  /** A fresh, empty place for the ingest run: cloud-server.ts's arguments; `drop` removes it. */
  fresh(): Promise<{ args: string[]; drop(): Promise<void> }>;
  /** The seeded place (seeded first when it holds fewer than `n` events): cloud-server.ts's arguments. */
  seeded(n: number): Promise<{ args: string[]; drop(): Promise<void> }>;
  close(): Promise<void>;
}

const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'anpr-bench-'));
  return { dir, drop: async () => rmSync(dir, { recursive: true, force: true }) };
};

function sqliteBackend(): Backend {
  return {
    label: 'sqlite',
    async fresh() {
      const t = tempDir();
      return { args: [t.dir], drop: t.drop };
    },
    async seeded(n) {
      if (!existsSync(BIG_DIR)) console.log(`  (first run seeds ${BIG_DIR})`);
      await seedSqlite(BIG_DIR, n);
      return { args: [BIG_DIR], drop: async () => {} };
    },
    async close() {},
  };
}

/** The bench cluster's version and durability settings, as the server reports them. */
export async function describeCluster(cluster: PgCluster): Promise<string> {
  return withClient(cluster.url(), async (c) => {
    const v = (await c.query('SHOW server_version')).rows[0].server_version as string;
    const names = ['fsync', 'synchronous_commit', 'full_page_writes', 'wal_sync_method', 'shared_buffers', 'max_connections'];
    const vals: string[] = [];
    for (const n of names) vals.push(`${n}=${(await c.query(`SHOW ${n}`)).rows[0][n]}`);
    return `PostgreSQL ${v} on 127.0.0.1:${cluster.port}, data in ${PG_DIR}/data: ${vals.join(', ')} (production durability; the test clusters run with fsync off)`;
  });
}

async function postgresBackend(): Promise<Backend> {
  const teardowns: Array<() => void | Promise<void>> = [];
  if (!existsSync(PG_DIR)) console.log(`  (first run creates and seeds the PostgreSQL cluster in ${PG_DIR})`);
  const cluster = await startPostgresCluster({ teardown: (fn) => teardowns.push(fn) }, { dir: PG_DIR, settings: PG_PRODUCTION_SETTINGS });
  console.log(`  ${await describeCluster(cluster)}`);
  const close = async () => {
    for (const fn of teardowns.reverse()) await fn();
  };
  return {
    label: 'postgresql',
    async fresh() {
      const t = tempDir();
      const url = await database(cluster, 'bench_ingest', true);
      return {
        args: [t.dir, url],
        drop: async () => {
          await t.drop();
          await withClient(cluster.url(), (c) => c.query('DROP DATABASE IF EXISTS bench_ingest WITH (FORCE)'));
        },
      };
    },
    async seeded(n) {
      const url = await database(cluster, 'bench_events', false);
      await seedPostgres(url, n);
      // The JWT secret and images dir: a data dir of the run's own (the events are in the database).
      const t = tempDir();
      return { args: [t.dir, url], drop: t.drop };
    },
    close,
  };
}

export async function benchCloud(): Promise<void> {
  if (DATABASE !== 'sqlite' && DATABASE !== 'postgres') throw new Error(`BENCH_DATABASE must be sqlite or postgres, not '${DATABASE}'`);
  const backend = DATABASE === 'postgres' ? await postgresBackend() : sqliteBackend();
  try {
    await benchOn(backend);
  } finally {
    await backend.close();
  }
}

async function benchOn(backend: Backend): Promise<void> {
  const db = backend.label;
  console.log(`cloud (${db}): ingest, ${SECONDS} s per target, 50 keep-alive connections, JSON events; ${load1()}`);
  const trivial = await startProc('trivial-server.ts', []);
  const base = await load(trivial.port, {}, SECONDS, 'trivial', trivial.child.pid);
  await stop(trivial.child);
  const fresh = await backend.fresh();
  const cloud = await startProc('cloud-server.ts', fresh.args);
  const ingest = await load(cloud.port, { 'x-api-key': cloud.key! }, SECONDS, 'ingest', cloud.child.pid);
  const wsTok = await (await fetch(`http://127.0.0.1:${cloud.port}/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'bench-password' }) })).json();
  const ws = await streamLatency(cloud.port, cloud.key!, (wsTok as { access_token: string }).access_token, 1000);
  await stop(cloud.child);
  await fresh.drop();
  console.log(`  trivial Hono route (baseline): ${base.rate.toFixed(0)} req/s, server CPU ${base.cpuUsPerReq.toFixed(0)} µs/request`);
  console.log(
    `  POST /events/ingest (${db}):  ${ingest.rate.toFixed(0)} events/s  = ${((ingest.rate / base.rate) * 100).toFixed(0)}% of baseline (aim ≥ 40%), server CPU ${ingest.cpuUsPerReq.toFixed(0)} µs/event (all threads${db === 'postgresql' ? ' of the cloud process; not the database server' : ''})`,
  );
  console.log(`  ingest → WebSocket subscriber (${db}, 3 filtered subscribers, ~300 events/s): ${ws.received}/${ws.expected} delivered, p50 ${ws.p50} ms, p95 ${ws.p95} ms, max ${ws.max} ms (aim < 100 ms)`);

  if (N_EVENTS <= 0) return; // BENCH_EVENTS=0: ingest only
  console.log(`cloud (${db}): queries with ${N_EVENTS.toLocaleString('en')} events stored`);
  const seeded = await backend.seeded(N_EVENTS);
  console.log(`  ${load1()}`);
  const big = await startProc('cloud-server.ts', seeded.args);
  const tok = await (await fetch(`http://127.0.0.1:${big.port}/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'bench-password' }) })).json();
  const token = (tok as { access_token: string }).access_token;
  const list = [
    '/events?limit=100',
    '/events?camera_id=cam-003&limit=50',
    '/events?camera_id=cam-005&start_date=2026-10-10T06:30:00Z&end_date=2026-10-12T18:00:00Z&limit=100',
    '/events?zone_id=zone-2&min_confidence=0.9&limit=100',
    '/events?plate_text=KLM&limit=100',
    '/events?plate_text=AB1&camera_id=cam-001&limit=100',
    '/events?start_date=2026-10-20T00:00:00Z&sort_by=confidence&sort_order=desc&limit=100',
    '/events?camera_id=cam-002&sort_order=asc&skip=5000&limit=100',
    '/events?camera_id=cam-001&zone_id=zone-1&min_confidence=0.8&limit=100',
    '/events?plate_text=AB&limit=100',
  ];
  const stats = [
    '/events/stats',
    '/events/stats?interval=day',
    '/events/stats?camera_id=cam-004&interval=hour',
    '/events/stats?zone_id=zone-1&start_date=2026-10-05T03:17:22Z&end_date=2026-10-19T21:05:09Z&interval=hour',
    '/events/stats?start_date=2026-10-15T00:00:00Z&end_date=2026-10-16T00:00:00Z&interval=minute',
    '/events/stats?interval=week',
  ];
  const l = await latency(big.port, token, list, 10);
  const s = await latency(big.port, token, stats, 10);
  await stop(big.child);
  await seeded.drop();
  console.log(`  GET /events (${db}, 10 filter mixes, ${l.n} requests):  p50 ${l.p50} ms, p95 ${l.p95} ms (aim p95 < 50 ms)`);
  printEach(l.each, 10);
  console.log(`  GET /events/stats (${db}, 6 mixes, ${s.n} requests):   p50 ${s.p50} ms, p95 ${s.p95} ms (aim p95 < 250 ms)`);
  printEach(s.each, 10);
  console.log(`  ${load1()}`);
}

if (import.meta.url === `file://${process.argv[1]}`) await benchCloud();
