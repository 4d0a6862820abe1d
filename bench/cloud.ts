/**
 * Cloud benchmark (`npm run bench -- cloud`). Server in its own process, load from this one.
 *  1. Ingest: JSON events/s over 50 keep-alive connections, against a trivial Hono route
 *     (bench/trivial-server.ts) measured in the same run; prints the ratio.
 *  2. With 1,000,000 events stored: GET /events (with filters) and GET /events/stats latency,
 *     p50/p95 over a fixed mix of queries.
 * Env: BENCH_SECONDS (ingest duration, default 10), BENCH_EVENTS (default 1000000; 0 = ingest only),
 * BENCH_DIR (where the 1M-event database is kept between runs, default /tmp/anpr-bench-1m).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import WebSocket from 'ws';
import { openCloudData } from '../cloud/server.js';
import { SqliteEventsStore, type EventRow } from '../cloud/store/events-store.js';

const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const N_EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const BIG_DIR = process.env.BENCH_DIR ?? '/tmp/anpr-bench-1m';

function startProc(script: string, args: string[]): Promise<{ child: ChildProcess; port: number; key?: string }> {
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

const stop = (c: ChildProcess) => new Promise<void>((r) => (c.once('exit', () => r()), c.kill('SIGTERM')));

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

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

async function seed(dir: string, n: number): Promise<void> {
  const d = openCloudData(dir);
  const store = new SqliteEventsStore(d.db);
  const have = store.countAll();
  if (have >= n) {
    d.db.close();
    return;
  }
  console.log(`  seeding ${n - have} events into ${dir} (kept for later runs)…`);
  const t0 = Date.now();
  const start = Date.parse('2026-10-01T00:00:00Z');
  const span = 30 * 86_400_000;
  let x = 12345;
  const rnd = () => ((x = (x * 1103515245 + 12345) >>> 0) / 4294967296);
  const letters = 'ABCDEFGHJKLMNPRSTUVWXYZ';
  for (let i = have; i < n; i += 10_000) {
    const batch: Promise<unknown>[] = [];
    for (let j = i; j < Math.min(n, i + 10_000); j++) {
      const p = Math.floor(rnd() * 50_000);
      const plate = `${letters[p % 23]}${letters[Math.floor(p / 23) % 23]}${letters[Math.floor(p / 529) % 23]}${String(p % 1000).padStart(3, '0')}`;
      const row: EventRow = {
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
      batch.push(store.insert(row));
    }
    await Promise.all(batch);
  }
  await store.close();
  d.db.pragma("wal_checkpoint(TRUNCATE)");
  d.db.exec('ANALYZE');
  d.db.close();
  console.log(`  seeded in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

async function latency(port: number, token: string, paths: string[], rounds: number): Promise<{ p50: number; p95: number; n: number }> {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 1 });
  const ms: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const path of paths) {
      const t0 = performance.now();
      const res = await pool.request({ path, method: 'GET', headers: { authorization: `Bearer ${token}` } });
      await res.body.text();
      if (res.statusCode !== 200) throw new Error(`${path} → ${res.statusCode}`);
      ms.push(performance.now() - t0);
    }
  }
  await pool.close();
  return { p50: Math.round(pct(ms, 50) * 10) / 10, p95: Math.round(pct(ms, 95) * 10) / 10, n: ms.length };
}

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

export async function benchCloud(): Promise<void> {
  console.log(`cloud: ingest, ${SECONDS} s per target, 50 keep-alive connections, JSON events`);
  const trivial = await startProc('trivial-server.ts', []);
  const base = await load(trivial.port, {}, SECONDS, 'trivial', trivial.child.pid);
  await stop(trivial.child);
  const dir = mkdtempSync(join(tmpdir(), 'anpr-bench-'));
  const cloud = await startProc('cloud-server.ts', [dir]);
  const ingest = await load(cloud.port, { 'x-api-key': cloud.key! }, SECONDS, 'ingest', cloud.child.pid);
  const wsTok = await (await fetch(`http://127.0.0.1:${cloud.port}/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'bench-password' }) })).json();
  const ws = await streamLatency(cloud.port, cloud.key!, (wsTok as { access_token: string }).access_token, 1000);
  await stop(cloud.child);
  rmSync(dir, { recursive: true, force: true });
  console.log(`  trivial Hono route (baseline): ${base.rate.toFixed(0)} req/s, server CPU ${base.cpuUsPerReq.toFixed(0)} µs/request`);
  console.log(
    `  POST /events/ingest:           ${ingest.rate.toFixed(0)} events/s  = ${((ingest.rate / base.rate) * 100).toFixed(0)}% of baseline (aim ≥ 40%), server CPU ${ingest.cpuUsPerReq.toFixed(0)} µs/event (all threads)`,
  );
  console.log(`  ingest → WebSocket subscriber (3 filtered subscribers, ~300 events/s): ${ws.received}/${ws.expected} delivered, p50 ${ws.p50} ms, p95 ${ws.p95} ms, max ${ws.max} ms (aim < 100 ms)`);

  if (N_EVENTS <= 0) return; // BENCH_EVENTS=0: ingest only
  console.log(`cloud: queries with ${N_EVENTS.toLocaleString('en')} events stored`);
  if (!existsSync(BIG_DIR)) console.log(`  (first run seeds ${BIG_DIR})`);
  await seed(BIG_DIR, N_EVENTS);
  const big = await startProc('cloud-server.ts', [BIG_DIR]);
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
  console.log(`  GET /events (10 filter mixes, ${l.n} requests):  p50 ${l.p50} ms, p95 ${l.p95} ms (aim p95 < 50 ms)`);
  console.log(`  GET /events/stats (6 mixes, ${s.n} requests):   p50 ${s.p50} ms, p95 ${s.p95} ms (aim p95 < 250 ms)`);
}

if (import.meta.url === `file://${process.argv[1]}`) await benchCloud();
