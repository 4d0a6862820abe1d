/**
 * Edge heartbeats benchmark (`npm run bench -- edge-heartbeats`): what 200 edges reporting
 * every 5 s cost the cloud (issue 9 target: < 5% of one core).
 *
 * The cloud runs in its own process (bench/cloud-server.ts) on a data dir with 200 registered
 * edges, each with 2 assigned cameras. Each simulated edge keeps its own keep-alive connection
 * and POSTs a realistic heartbeat (2 running cameras, 2 exporters, config version) every 5 s,
 * the edges spread evenly over the interval. The cloud's CPU (user + system, /proc/PID/stat) is
 * measured over the steady part of the run, and against a named baseline measured in the same
 * run: the same cloud idle for BENCH_IDLE_SECONDS.
 * Env: BENCH_EDGES (200), BENCH_INTERVAL_S (5), BENCH_SECONDS (60), BENCH_IDLE_SECONDS (10).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { openCloudData } from '../cloud/server.js';
import { SqliteConfigStore } from '../cloud/store/config-store.js';

const EDGES = Number(process.env.BENCH_EDGES ?? 200);
const INTERVAL_S = Number(process.env.BENCH_INTERVAL_S ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 10);
/** The first rounds are every edge's first heartbeat (written at once, announced): not the steady state. */
const WARMUP_ROUNDS = 2;

/** CPU time (user + system, ms) a process has used so far, from /proc (clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function heartbeat(i: number, startedAt: number) {
  return JSON.stringify({
    instance_id: `bench-instance-${String(i).padStart(4, '0')}`,
    sent_at: new Date().toISOString(),
    interval_s: INTERVAL_S,
    version: '1.4.0',
    uptime_s: Math.round((Date.now() - startedAt) / 1000),
    health: 'ok',
    problems: [],
    cameras: [
      { id: `cam-${i}-a`, state: 'running', fps: 9.7, error: null },
      { id: `cam-${i}-b`, state: 'running', fps: 10, error: null },
    ],
    outbox: {
      pending: 2,
      dead_letters: 0,
      exporters: [
        { id: 'cloud', pending: 2, dead_letters: 0 },
        { id: 'exp-mqtt', pending: 0, dead_letters: 0 },
      ],
    },
    config: { version: '0123456789abcdef', applied_at: new Date(startedAt).toISOString(), error: null, problems: [] },
  });
}

const dir = mkdtempSync(join(tmpdir(), 'anpr-bench-hb-'));
const keys: string[] = [];
{
  const d = openCloudData(dir);
  const config = new SqliteConfigStore(d.db);
  for (let i = 0; i < EDGES; i++) {
    keys.push((await d.apiKeys.create(`gate-${i}`)).key);
    for (const s of ['a', 'b']) {
      config.create('cameras', { id: `cam-${i}-${s}`, name: `Gate ${i} ${s}`, rtsp_url: 'rtsp://127.0.0.1:8554/x', enabled: true, edge_id: `gate-${i}`, fps: 10, metadata: {} });
    }
  }
  d.db.close();
}

// BENCH_CLOUD_PROF=DIR: the cloud writes a CPU profile there (chrome://inspect, speedscope).
const prof = process.env.BENCH_CLOUD_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CLOUD_PROF}`] : [];
const child: ChildProcess = spawn(process.execPath, [...prof, '--import', 'tsx', fileURLToPath(new URL('./cloud-server.ts', import.meta.url)), dir], { stdio: ['ignore', 'pipe', 'inherit'] });
const port = await new Promise<number>((resolve, reject) => {
  let out = '';
  child.stdout!.on('data', (d) => {
    out += d;
    const m = /listening (\d+)/.exec(out);
    if (m) resolve(Number(m[1]));
  });
  child.once('exit', (code) => reject(new Error(`cloud-server exited ${code}`)));
});
const pid = child.pid!;

try {
  // Baseline: the same cloud, idle (its timers: the status sweep, the stream re-check).
  await sleep(1000);
  const idle0 = cpuMs(pid);
  const idleT0 = performance.now();
  await sleep(IDLE_SECONDS * 1000);
  const idlePct = ((cpuMs(pid) - idle0) / (performance.now() - idleT0)) * 100;

  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: EDGES, pipelining: 1 });
  const startedAt = Date.now();
  const end = startedAt + SECONDS * 1000;
  const codes = new Map<number, number>();
  let sent = 0;
  let steadyCpu0 = 0;
  let steadyT0 = 0;
  let steadySent0 = 0;
  const edge = async (i: number) => {
    // Spread evenly over the interval, as real edges started at different times are.
    await sleep((i * INTERVAL_S * 1000) / EDGES);
    for (let round = 0; Date.now() < end; round++) {
      const due = startedAt + (i * INTERVAL_S * 1000) / EDGES + (round + 1) * INTERVAL_S * 1000;
      const r = await pool.request({ path: `/edges/gate-${i}/heartbeat`, method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': keys[i]! }, body: heartbeat(i, startedAt) });
      await r.body.dump();
      codes.set(r.statusCode, (codes.get(r.statusCode) ?? 0) + 1);
      sent++;
      await sleep(Math.max(0, due - Date.now()));
    }
  };
  const warm = (async () => {
    await sleep(WARMUP_ROUNDS * INTERVAL_S * 1000);
    steadyCpu0 = cpuMs(pid);
    steadyT0 = performance.now();
    steadySent0 = sent;
  })();
  await Promise.all([...Array.from({ length: EDGES }, (_, i) => edge(i)), warm]);
  const steadyMs = performance.now() - steadyT0;
  const steadyCpu = cpuMs(pid) - steadyCpu0;
  const steadySent = sent - steadySent0;
  await pool.close();

  const admin = await fetch(`http://127.0.0.1:${port}/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'bench-password' }) });
  const token = ((await admin.json()) as { access_token: string }).access_token;
  const list = (await (await fetch(`http://127.0.0.1:${port}/edges`, { headers: { authorization: `Bearer ${token}` } })).json()) as { items: Array<{ status: string }> };
  const online = list.items.filter((e) => e.status === 'online').length;

  const pct = (steadyCpu / steadyMs) * 100;
  const rate = steadySent / (steadyMs / 1000);
  console.log(`edges: ${EDGES}, every ${INTERVAL_S} s, ${SECONDS} s (first ${WARMUP_ROUNDS} rounds not measured); responses ${JSON.stringify(Object.fromEntries(codes))}; online at the end: ${online}`);
  console.log(`baseline (idle cloud, ${IDLE_SECONDS} s): ${idlePct.toFixed(2)}% of one core`);
  console.log(`heartbeats: ${rate.toFixed(1)}/s, cloud CPU ${pct.toFixed(2)}% of one core (${((steadyCpu * 1000) / Math.max(1, steadySent)).toFixed(0)} µs per heartbeat); over idle: +${(pct - idlePct).toFixed(2)}%; target < 5%: ${pct < 5 ? 'met' : 'NOT met'}`);
  if (codes.size !== 1 || !codes.has(200)) process.exitCode = 1;
  if (pct >= 5) process.exitCode = 1;
} finally {
  await new Promise<void>((r) => (child.once('exit', () => r()), child.kill('SIGTERM')));
  rmSync(dir, { recursive: true, force: true });
}
