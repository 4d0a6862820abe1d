/**
 * Two cloud replicas on one PostgreSQL (`npm run bench -- replicas`): issue 12's two targets.
 * Replicas A and B are separate processes (bench/cloud-server.ts) with data dirs of their own,
 * one database (made fresh on the bench's PostgreSQL 15 cluster, the one bench/cloud.ts keeps in
 * BENCH_DIR-pg, with fsync, synchronous_commit and full_page_writes on) and one shared images
 * directory; the load and the subscribers run in this process, on 127.0.0.1.
 *  1. Cross-replica stream latency: a WebSocket subscriber on B (an admin token signed in on B)
 *     and one on A; JSON events ingested on A at a steady BENCH_RATE (default 50 events/s) for
 *     BENCH_SECONDS (default 10), each request sent at its due time whether or not the previous
 *     ones were answered. Per subscriber: acknowledged (202) vs received, duplicates, and the
 *     latency from sending the POST to the message's arrival, and from the 202's arrival to the
 *     message's (negative when the message beat the answer). Target on B: p95 < 250 ms.
 *     Baseline, measured first in the same run at the same rate: one cloud on SQLite, whose
 *     stream is in process (no database between ingest and subscriber). Ten events before
 *     each measurement warm the connections and are not counted.
 *  2. kill -9 of A while BENCH_CLIENTS (default 4) clients ingest multipart events (event +
 *     frame) on A as fast as A answers, BENCH_KILL_AFTER_MS (default 3000) after they start;
 *     a prober reads B's /healthz every 20 ms throughout. Then, on B: every acknowledged event
 *     must be readable (GET /events/{id} with an admin token, and its frame byte for byte from
 *     the shared directory), B must answer /healthz 200, and an event ingested on B must reach
 *     B's subscriber (opened before the kill). Prints acknowledged / present / lost, how long B
 *     took to answer its first /healthz and its first GET /events/{id} after the kill, and how
 *     many acknowledged events reached B's subscriber (informative: an announcement is lost when
 *     A dies between its commit and its NOTIFY; cloud/stream/pg-stream-bus.ts allows that).
 * Exits 1 when an acknowledged event is lost, a subscriber got a duplicate, or B stopped
 * serving or streaming; latency figures are printed against their target, never fail the run.
 * Prints `uptime` at the start (2-core machines shared with other work: read figures with it).
 * Env: BENCH_RATE, BENCH_SECONDS, BENCH_CLIENTS, BENCH_KILL_AFTER_MS, BENCH_DIR (as bench/cloud.ts).
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import WebSocket from 'ws';
import { startPostgresCluster } from '../test/fixtures/postgres.js';
import { imageOf } from '../test/fixtures/crash-ingest.js';
import { PG_DIR, PG_PRODUCTION_SETTINGS, database, describeCluster, load1, pct, startProc, stop, withClient } from './cloud.js';

const RATE = Number(process.env.BENCH_RATE ?? 50);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 4);
const KILL_AFTER_MS = Number(process.env.BENCH_KILL_AFTER_MS ?? 3000);
const TARGET_P95_MS = 250;
const DB_NAME = 'bench_replicas';
const WARMUP = 10;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const r1 = (x: number) => (Number.isFinite(x) ? String(Math.round(x * 10) / 10) : '-');
const base = (port: number) => `http://127.0.0.1:${port}`;

interface Replica {
  child: ChildProcess;
  port: number;
  key: string;
}

/** Polls `ok` every 10 ms until it holds or `ms` pass; whether it held. */
async function until(ok: () => boolean, ms: number): Promise<boolean> {
  const end = performance.now() + ms;
  while (!ok()) {
    if (performance.now() > end) return false;
    await sleep(10);
  }
  return true;
}

async function signIn(port: number): Promise<string> {
  const r = await fetch(`${base(port)}/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'bench-password' }) });
  if (r.status !== 200) throw new Error(`sign-in on ${port}: ${r.status} ${await r.text()}`);
  return ((await r.json()) as { access_token: string }).access_token;
}

/** A stream subscriber: every event's arrival times (performance.now()), by event id. */
interface Subscriber {
  ws: WebSocket;
  arrivals: Map<string, number[]>;
  closedWith?: string;
}

function subscribe(port: number, token: string): Promise<Subscriber> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/events/stream?token=${token}`);
    const sub: Subscriber = { ws, arrivals: new Map() };
    ws.on('message', (d) => {
      const at = performance.now();
      const m = JSON.parse(d.toString()) as { type: string; data?: { event_id?: string } };
      const id = m.type === 'event' ? m.data?.event_id : undefined;
      if (!id) return;
      const seen = sub.arrivals.get(id);
      if (seen) seen.push(at);
      else sub.arrivals.set(id, [at]);
    });
    ws.once('open', () => resolve(sub));
    ws.once('error', reject);
    ws.once('close', (code, reason) => (sub.closedWith = `${code} ${reason.toString()}`));
  });
}

interface Sent {
  id: string;
  sentAt: number;
  ackAt: number;
  status: number;
}

const eventBody = (id: string, i: number) =>
  JSON.stringify({
    event_id: id,
    timestamp: new Date().toISOString(),
    camera_id: `cam-00${i % 4}`,
    zone_id: 'zone-entrance',
    plate_text: `AB${i % 10000}`,
    confidence: 0.9,
    raw_candidates: [{ text: 'ABC123', confidence: 0.9, model: 'fast-plate-ocr' }],
    metadata: { edge_worker_id: 'edge-001', processing_time_ms: 120 },
  });

/**
 * `n` JSON events to `port` at `rate` per second, each sent at its due time (an open loop: a
 * slow answer does not delay the next request). `lagMs`: how late this process sent the latest one.
 */
async function steadyIngest(port: number, key: string, n: number, rate: number, tag: string): Promise<{ sent: Sent[]; seconds: number; lagMs: number }> {
  const pool = new Pool(base(port), { connections: 32 });
  const sent: Sent[] = [];
  const answers: Promise<void>[] = [];
  const t0 = performance.now();
  let lagMs = 0;
  for (let i = 0; i < n; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    lagMs = Math.max(lagMs, performance.now() - due);
    const s: Sent = { id: `${tag}-${i}-${Date.now()}`, sentAt: performance.now(), ackAt: 0, status: 0 };
    sent.push(s);
    answers.push(
      pool.request({ path: '/events/ingest', method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': key }, body: eventBody(s.id, i) }).then(
        async (r) => {
          s.ackAt = performance.now();
          s.status = r.statusCode;
          await r.body.dump();
        },
        () => void (s.status = -1),
      ),
    );
  }
  const seconds = (performance.now() - t0) / 1000;
  await Promise.all(answers);
  await pool.close();
  return { sent, seconds, lagMs };
}

interface Delivery {
  acked: number;
  received: number;
  duplicates: number;
  fromSend: { p50: number; p95: number; max: number };
  fromAck: { p50: number; p95: number; max: number };
}

function delivery(sent: Sent[], sub: Subscriber): Delivery {
  const acked = sent.filter((s) => s.status === 202);
  const fromSend: number[] = [];
  const fromAck: number[] = [];
  let duplicates = 0;
  for (const s of acked) {
    const at = sub.arrivals.get(s.id);
    if (!at) continue;
    duplicates += at.length - 1;
    fromSend.push(at[0]! - s.sentAt);
    fromAck.push(at[0]! - s.ackAt);
  }
  const stats = (xs: number[]) => (xs.length ? { p50: pct(xs, 50), p95: pct(xs, 95), max: Math.max(...xs) } : { p50: NaN, p95: NaN, max: NaN });
  return { acked: acked.length, received: fromSend.length, duplicates, fromSend: stats(fromSend), fromAck: stats(fromAck) };
}

/** Warm-up, then the measured run; waits for every acknowledged event at every subscriber (5 s at most), then 500 ms for duplicates. */
async function measureStream(
  port: number,
  key: string,
  subs: Subscriber[],
  tag: string,
): Promise<{ deliveries: Delivery[]; seconds: number; lagMs: number; failed: number; answer: { p50: number; p95: number; max: number } }> {
  const warm = await steadyIngest(port, key, WARMUP, RATE, `${tag}-warmup`);
  await until(() => subs.every((sub) => warm.sent.every((s) => s.status !== 202 || sub.arrivals.has(s.id))), 5000);
  const run = await steadyIngest(port, key, Math.round(RATE * SECONDS), RATE, tag);
  const acked = run.sent.filter((s) => s.status === 202);
  await until(() => subs.every((sub) => acked.every((s) => sub.arrivals.has(s.id))), 5000);
  await sleep(500);
  const answer = acked.map((s) => s.ackAt - s.sentAt);
  return {
    deliveries: subs.map((sub) => delivery(run.sent, sub)),
    seconds: run.seconds,
    lagMs: run.lagMs,
    failed: run.sent.length - acked.length,
    answer: { p50: pct(answer, 50), p95: pct(answer, 95), max: Math.max(...answer) },
  };
}

function printDelivery(label: string, d: Delivery, aim: string): void {
  console.log(`  ${label}: ${d.received}/${d.acked} acknowledged received, ${d.duplicates} duplicates`);
  console.log(`      POST sent → message: p50 ${r1(d.fromSend.p50)} ms, p95 ${r1(d.fromSend.p95)} ms, max ${r1(d.fromSend.max)} ms${aim}`);
  console.log(`      202 → message:       p50 ${r1(d.fromAck.p50)} ms, p95 ${r1(d.fromAck.p95)} ms, max ${r1(d.fromAck.max)} ms`);
}

/** Baseline: one cloud on SQLite (its stream in process), same rate and duration. */
async function baseline(): Promise<Delivery> {
  const dir = mkdtempSync(join(tmpdir(), 'anpr-bench-replicas-sqlite-'));
  const one = await startProc('cloud-server.ts', [dir]);
  try {
    const sub = await subscribe(one.port, await signIn(one.port));
    const m = await measureStream(one.port, one.key!, [sub], 'base');
    sub.ws.close();
    if (m.failed) console.log(`  (baseline: ${m.failed} requests not answered 202)`);
    console.log(`  POST → 202 (baseline): p50 ${r1(m.answer.p50)} ms, p95 ${r1(m.answer.p95)} ms, max ${r1(m.answer.max)} ms`);
    return m.deliveries[0]!;
  } finally {
    await stop(one.child);
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Probe {
  at: number;
  ms: number;
  status: number;
}

/** GET /healthz on `port` every 20 ms (one connection) until `stop()`; every answer, or -1 for an error. */
function healthProber(port: number): { probes: Probe[]; stop(): Promise<void> } {
  const pool = new Pool(base(port), { connections: 1 });
  const probes: Probe[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const at = performance.now();
      let status = -1;
      try {
        const r = await pool.request({ path: '/healthz', method: 'GET', headersTimeout: 30_000 });
        status = r.statusCode;
        await r.body.dump();
      } catch {
        // counted as -1
      }
      probes.push({ at, ms: performance.now() - at, status });
      await sleep(20);
    }
  })();
  return {
    probes,
    async stop() {
      running = false;
      await loop;
      await pool.close();
    },
  };
}

/** Runs `fn` over `items`, `n` at a time. */
async function eachLimit<T>(items: T[], n: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

interface KillResult {
  acked: number;
  present: number;
  framesOk: number;
  lost: string[];
  cutOff: number;
  cutOffStored: number;
  unexpected: string[];
  streamed: number;
  killAfterMs: number;
  beforeKill: { n: number; p50: number; max: number; bad: number };
  firstHealth: { sentMs: number; answeredMs: number; status: number } | undefined;
  afterKill: { n: number; p50: number; max: number; bad: number };
  firstRead: { ms: number; status: number } | undefined;
  healthEnd: number;
  streamAfter: { ms: number } | undefined;
  subOpen: boolean;
}

/** Part 2: kill -9 of A during concurrent multipart ingest; then B is checked. */
async function killDuringIngest(a: Replica, b: Replica, token: string, subB: Subscriber): Promise<KillResult> {
  const acked = new Map<string, { size: number; at: number }>();
  const cutOff: string[] = [];
  const unexpected: string[] = [];
  let sending = true;
  const client = async (c: number) => {
    for (let n = 0; sending; n++) {
      const id = `kill-${c}-${n}-${Date.now()}`;
      const size = 2048 + ((c * 7919 + n * 104_729) % 30_000);
      const fd = new FormData();
      fd.set('event', eventBody(id, n));
      fd.set('frame', new Blob([new Uint8Array(imageOf(id, 'frame', size))], { type: 'image/jpeg' }), 'frame.jpg');
      try {
        const r = await fetch(`${base(a.port)}/events/ingest`, { method: 'POST', headers: { 'x-api-key': a.key }, body: fd });
        await r.arrayBuffer();
        if (r.status === 202) acked.set(id, { size, at: performance.now() });
        else unexpected.push(`${id}: ${r.status}`);
      } catch {
        // A died under this request: stored or not, unknown (an edge would retry it elsewhere).
        cutOff.push(id);
        return;
      }
    }
  };
  const prober = healthProber(b.port);
  const clients = Array.from({ length: CLIENTS }, (_, c) => client(c));
  const t0 = performance.now();
  await sleep(KILL_AFTER_MS);
  const exited = new Promise<void>((r) => a.child.once('exit', () => r()));
  const tKill = performance.now();
  a.child.kill('SIGKILL');
  // The first read of B after the kill: the latest event A acknowledged.
  const latest = [...acked.entries()].sort((x, y) => y[1].at - x[1].at)[0]?.[0];
  const firstReadP = latest
    ? fetch(`${base(b.port)}/events/${latest}`, { headers: { authorization: `Bearer ${token}` } }).then(
        async (r) => (await r.arrayBuffer(), { ms: performance.now() - tKill, status: r.status }),
        () => ({ ms: performance.now() - tKill, status: -1 }),
      )
    : Promise.resolve(undefined);
  await exited;
  sending = false;
  await Promise.all(clients);
  const firstRead = await firstReadP;
  await sleep(Math.max(0, tKill + 3000 - performance.now()));
  await prober.stop();

  const before = prober.probes.filter((p) => p.at < tKill);
  const after = prober.probes.filter((p) => p.at >= tKill);
  const sum = (ps: Probe[]) => ({ n: ps.length, p50: ps.length ? pct(ps.map((p) => p.ms), 50) : NaN, max: ps.length ? Math.max(...ps.map((p) => p.ms)) : NaN, bad: ps.filter((p) => p.status !== 200).length });
  const first = after[0];

  // Every acknowledged event, read on B: its row, and its frame from the shared directory.
  let present = 0;
  let framesOk = 0;
  const lost: string[] = [];
  const pool = new Pool(base(b.port), { connections: 8 });
  const get = async (path: string): Promise<{ status: number; body: Buffer }> => {
    const r = await pool.request({ path, method: 'GET', headers: { authorization: `Bearer ${token}` } });
    return { status: r.statusCode, body: Buffer.from(await r.body.arrayBuffer()) };
  };
  await eachLimit([...acked.entries()], 8, async ([id, { size }]) => {
    const row = await get(`/events/${id}`);
    if (row.status !== 200 || (JSON.parse(row.body.toString()) as { event_id: string }).event_id !== id) {
      lost.push(`${id}: GET /events/{id} → ${row.status}`);
      return;
    }
    present++;
    const frame = await get(`/events/${id}/frame`);
    if (frame.status === 200 && frame.body.equals(imageOf(id, 'frame', size))) framesOk++;
    else lost.push(`${id}: frame → ${frame.status}${frame.status === 200 ? ', other bytes' : ''}`);
  });
  let cutOffStored = 0;
  await eachLimit(cutOff, 8, async (id) => {
    if ((await get(`/events/${id}`)).status === 200) cutOffStored++;
  });
  const healthEnd = (await get('/healthz')).status;
  await pool.close();
  const streamed = [...acked.keys()].filter((id) => subB.arrivals.has(id)).length;

  // B still streams: an event ingested on B reaches B's subscriber, opened before the kill.
  const id = `after-kill-${Date.now()}`;
  const tPost = performance.now();
  const r = await fetch(`${base(b.port)}/events/ingest`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': b.key }, body: eventBody(id, 0) });
  await r.arrayBuffer();
  if (r.status !== 202) unexpected.push(`${id} on B: ${r.status}`);
  const arrived = await until(() => subB.arrivals.has(id), 5000);

  return {
    acked: acked.size,
    present,
    framesOk,
    lost,
    cutOff: cutOff.length,
    cutOffStored,
    unexpected,
    streamed,
    killAfterMs: tKill - t0,
    beforeKill: sum(before),
    firstHealth: first && { sentMs: first.at - tKill, answeredMs: first.at + first.ms - tKill, status: first.status },
    afterKill: sum(after),
    firstRead,
    healthEnd,
    streamAfter: arrived ? { ms: subB.arrivals.get(id)![0]! - tPost } : undefined,
    subOpen: subB.ws.readyState === WebSocket.OPEN,
  };
}

async function main(): Promise<number> {
  console.log(`replicas: ${spawnSync('uptime', { encoding: 'utf8' }).stdout.trim()}`);
  console.log(`  ${load1()}`);
  const teardowns: Array<() => void | Promise<void>> = [];
  const tmp = mkdtempSync(join(tmpdir(), 'anpr-bench-replicas-'));
  const procs: ChildProcess[] = [];
  const subs: Subscriber[] = [];
  let adminUrl: string | undefined;
  let failed = false;
  try {
    console.log(`replicas: baseline, one cloud on SQLite (stream in process), ${RATE} events/s for ${SECONDS} s`);
    const base0 = await baseline();
    printDelivery('ingest → subscriber on the same cloud (baseline)', base0, '');
    console.log(`  ${load1()}`);

    const cluster = await startPostgresCluster({ teardown: (fn) => teardowns.push(fn) }, { dir: PG_DIR, settings: PG_PRODUCTION_SETTINGS });
    console.log(`  ${await describeCluster(cluster)}`);
    const url = await database(cluster, DB_NAME, true);
    adminUrl = cluster.url();
    const images = join(tmp, 'images');
    mkdirSync(images);
    mkdirSync(join(tmp, 'a'));
    mkdirSync(join(tmp, 'b'));
    // One after the other: the first migrates the fresh database and creates the admin.
    const start = async (name: string): Promise<Replica> => {
      const p = await startProc('cloud-server.ts', [join(tmp, name), url, images]);
      procs.push(p.child);
      return { child: p.child, port: p.port, key: p.key! };
    };
    const a = await start('a');
    const b = await start('b');
    // Signed in on B, used on both: the JWT secret is the database's.
    const token = await signIn(b.port);
    const subB = await subscribe(b.port, token);
    const subA = await subscribe(a.port, token);
    subs.push(subB, subA);

    console.log(`replicas: A :${a.port} and B :${b.port}, database ${DB_NAME}, images in ${images}; ingest on A at ${RATE} events/s for ${SECONDS} s`);
    const m = await measureStream(a.port, a.key, [subB, subA], 'rep');
    const [onB, onA] = m.deliveries as [Delivery, Delivery];
    console.log(`  sent ${Math.round(RATE * SECONDS)} in ${m.seconds.toFixed(1)} s (latest send ${r1(m.lagMs)} ms late), ${m.failed} not answered 202`);
    console.log(`  POST → 202 on A: p50 ${r1(m.answer.p50)} ms, p95 ${r1(m.answer.p95)} ms, max ${r1(m.answer.max)} ms (each commit waits for its WAL flush)`);
    const ok = onB.fromSend.p95 < TARGET_P95_MS;
    printDelivery('ingest on A → subscriber on B', onB, ` (target p95 < ${TARGET_P95_MS} ms: ${ok ? 'met' : 'MISSED'}; ${r1(onB.fromSend.p95 / base0.fromSend.p95)}× baseline's p95)`);
    printDelivery('ingest on A → subscriber on A (same NOTIFY path, no other replica)', onA, '');
    console.log(`  ${load1()}`);
    if (onB.duplicates || onA.duplicates || onB.received < onB.acked) failed = true;

    console.log(`replicas: kill -9 of A after ${KILL_AFTER_MS} ms of ingest by ${CLIENTS} concurrent clients (multipart, frame 2–32 KB), B probed every 20 ms`);
    const k = await killDuringIngest(a, b, token, subB);
    console.log(`  killed after ${r1(k.killAfterMs)} ms of ingest`);
    console.log(`  acknowledged ${k.acked}, present on B ${k.present} (frames byte for byte ${k.framesOk}), lost ${k.lost.length} (target 0)`);
    for (const x of k.lost.slice(0, 20)) console.log(`    ${x}`);
    console.log(`  cut off by the kill (no answer): ${k.cutOff}, of which stored ${k.cutOffStored} (either is allowed)`);
    if (k.unexpected.length) console.log(`  unexpected answers: ${k.unexpected.slice(0, 10).join(', ')}`);
    console.log(`  B /healthz before the kill: ${k.beforeKill.n} probes, p50 ${r1(k.beforeKill.p50)} ms, max ${r1(k.beforeKill.max)} ms, ${k.beforeKill.bad} not 200`);
    if (k.firstHealth) console.log(`  B /healthz first after the kill: sent +${r1(k.firstHealth.sentMs)} ms, answered ${k.firstHealth.status} at +${r1(k.firstHealth.answeredMs)} ms after the kill`);
    console.log(`  B /healthz in the 3 s after the kill: ${k.afterKill.n} probes, p50 ${r1(k.afterKill.p50)} ms, max ${r1(k.afterKill.max)} ms, ${k.afterKill.bad} not 200`);
    if (k.firstRead) console.log(`  B GET /events/{latest acknowledged}, sent at the kill: ${k.firstRead.status} at +${r1(k.firstRead.ms)} ms`);
    console.log(`  B /healthz after the checks: ${k.healthEnd}`);
    console.log(`  acknowledged events that reached B's subscriber: ${k.streamed}/${k.acked} (informative: A may die between commit and NOTIFY)`);
    console.log(`  event ingested on B after the kill → B's subscriber: ${k.streamAfter ? `${r1(k.streamAfter.ms)} ms` : `NOT RECEIVED in 5 s (subscriber ${k.subOpen ? 'open' : `closed: ${subB.closedWith}`})`}`);
    console.log(`  ${load1()}`);
    if (k.lost.length || k.healthEnd !== 200 || !k.streamAfter || k.afterKill.bad || k.unexpected.length) failed = true;
  } finally {
    for (const s of subs) s.ws.terminate();
    for (const c of procs) if (c.exitCode === null && c.signalCode === null) await stop(c);
    if (adminUrl) await withClient(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`)).catch(() => {});
    for (const fn of teardowns.reverse()) await fn();
    rmSync(tmp, { recursive: true, force: true });
  }
  return failed ? 1 : 0;
}

process.exit(await main());
