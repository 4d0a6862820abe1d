/**
 * `npm run bench -- healthz-under-load`: is the cloud still answering `/healthz` while one
 * viewer runs 200 CSV exports (40,000 events stored), 100 snapshots and 10 huge uploads at once?
 * Target: /healthz p99 < 100 ms. The cloud runs in its own process with its default load
 * limits (docs/cloud-limits.md); the camera is a real RTSP server on loopback; /healthz is
 * sampled back to back from a worker thread, so the load generator's own work does not delay it.
 * Baseline: the same sampling against the idle cloud, in the same run.
 * Each load client repeats its request until the window ends, waiting Retry-After on a 429;
 * at the end of the window every request still in flight is aborted, so a cloud that cannot
 * keep up still gets its figure printed (its answers show as `aborted`).
 * Env: BENCH_SECONDS (load window, default 20), BENCH_EVENTS (default 40000), BENCH_ONLY
 * (exports, snapshots or uploads: that load alone, to tell which one costs what), BENCH_CLOUD_PROF
 * (a folder: the cloud writes a V8 CPU profile there when the bench stops it).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { seedCloudEvents } from '../test/fixtures/seed-events.js';
import { startRtspServer } from '../edge/demo/rtsp-server.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const N_EVENTS = Number(process.env.BENCH_EVENTS ?? 40_000);
const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));

function startCloud(dir: string): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(process.env.BENCH_CLOUD_PROF ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.BENCH_CLOUD_PROF] : []), '--import', 'tsx', here('cloud-server.ts'), dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /listening (\d+)/.exec(out);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.once('exit', (code) => reject(new Error(`cloud exited ${code}`)));
  });
}

/** A real 16000×16000 JPEG (one colour, so about 1.5 MB): 768 MB once decoded. */
async function hugeJpeg(): Promise<Buffer> {
  const { default: sharp } = await import('sharp');
  return sharp({ create: { width: 16000, height: 16000, channels: 3, background: { r: 90, g: 120, b: 200 } }, limitInputPixels: false }).jpeg({ quality: 80 }).toBuffer();
}

/** Samples GET /healthz back to back in a worker thread until told to stop; returns latencies (ms). */
function sampleHealth(port: number): { stop(): Promise<number[]> } {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const http = require('node:http');
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const out = []; let running = true;
    parentPort.on('message', () => { running = false; });
    const one = () => new Promise((resolve) => {
      const t0 = process.hrtime.bigint();
      const req = http.get({ host: '127.0.0.1', port: workerData.port, path: '/healthz', agent }, (res) => {
        res.resume();
        res.on('end', () => resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, status: res.statusCode }));
      });
      req.on('error', () => resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, status: 0 }));
    });
    (async () => {
      let failed = 0;
      while (running) { const r = await one(); out.push(r.ms); if (r.status !== 200) failed++; await new Promise((r) => setTimeout(r, 20)); }
      parentPort.postMessage({ out, failed });
    })();`;
  const w = new Worker(code, { eval: true, workerData: { port } });
  const done = new Promise<number[]>((resolve) =>
    w.once('message', (m: { out: number[]; failed: number }) => {
      if (m.failed) console.log(`  (${m.failed} /healthz answers were not 200)`);
      void w.terminate();
      resolve(m.out);
    }),
  );
  return {
    stop() {
      w.postMessage('stop');
      return done;
    },
  };
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
};
const fmt = (xs: number[]) => `p50 ${pct(xs, 50).toFixed(1)} ms, p99 ${pct(xs, 99).toFixed(1)} ms, max ${Math.max(...xs).toFixed(1)} ms (n=${xs.length})`;

type Tally = Record<string, number>;
const count = (t: Tally, k: string | number) => (t[k] = (t[k] ?? 0) + 1);

/** `n` clients repeating `once` until `end`; a 429 waits its Retry-After; `stop` aborts. */
async function clients(n: number, end: number, once: () => Promise<Response>, tally: Tally, stop: AbortSignal): Promise<void> {
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (Date.now() < end) {
        let r: Response;
        try {
          r = await once();
          await r.arrayBuffer();
        } catch {
          count(tally, stop.aborted ? 'aborted' : 'error');
          continue;
        }
        count(tally, r.status);
        if (r.status === 429) await new Promise((res) => setTimeout(res, Math.min(end - Date.now(), Number(r.headers.get('retry-after') ?? 1) * 1000)));
      }
    }),
  );
}

const dir = mkdtempSync(join(tmpdir(), 'anpr-bench-healthz-'));
let cloud: ChildProcess | undefined;
let rtsp: { close(): Promise<void> } | undefined;
try {
  process.stdout.write(`seeding ${N_EVENTS} events… `);
  await seedCloudEvents(dir, N_EVENTS, { base: Date.now() - N_EVENTS * 1000 });
  console.log('done');
  const clip = join(dir, 'clip.mp4');
  execFileSync('ffmpeg', ['-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=1280x720:rate=10', '-t', '120', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-g', '10', clip]);
  const server = await startRtspServer({ file: clip, path: '/bench' });
  rtsp = server;
  const started = await startCloud(dir);
  cloud = started.child;
  const base = `http://127.0.0.1:${started.port}`;
  const post = (path: string, body: unknown, token?: string) =>
    fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
  const tokenOf = async (username: string, password: string) => ((await (await post('/auth/token', { username, password })).json()) as { access_token: string }).access_token;
  const admin = await tokenOf('admin', 'bench-password');
  await post('/users', { username: 'viewer', password: 'viewer-password', role: 'viewer' }, admin);
  const viewer = await tokenOf('viewer', 'viewer-password');
  const cam = ((await (await post('/config/cameras', { name: 'Gate', rtsp_url: server.url }, admin)).json()) as { id: string }).id;
  const auth = { authorization: `Bearer ${viewer}` };

  const idle = sampleHealth(started.port);
  await new Promise((r) => setTimeout(r, 5000));
  const idleMs = await idle.stop();

  const huge = await hugeJpeg();
  const exports: Tally = {};
  const snaps: Tally = {};
  const uploads: Tally = {};
  const busy = sampleHealth(started.port);
  const end = Date.now() + SECONDS * 1000;
  const stop = AbortSignal.timeout(SECONDS * 1000);
  const only = process.env.BENCH_ONLY;
  const n = (kind: string, k: number) => (!only || only === kind ? k : 0);
  await Promise.all([
    clients(n('exports', 200), end, () => fetch(`${base}/events/export?format=csv`, { headers: auth, signal: stop }), exports, stop),
    clients(n('snapshots', 100), end, () => fetch(`${base}/config/cameras/${cam}/snapshot?timeout=10`, { headers: auth, signal: stop }), snaps, stop),
    clients(n('uploads', 10), end, () => fetch(`${base}/recognize`, { method: 'POST', headers: { ...auth, 'content-type': 'image/jpeg' }, body: new Uint8Array(huge), signal: stop }), uploads, stop),
  ]);
  const loadMs = await busy.stop();

  console.log(`/healthz, idle (baseline):  ${fmt(idleMs)}`);
  console.log(`/healthz, under load:       ${fmt(loadMs)}   target p99 < 100 ms: ${pct(loadMs, 99) < 100 ? 'met' : 'NOT met'}`);
  console.log(`  p99 ratio under load / idle: ${(pct(loadMs, 99) / pct(idleMs, 99)).toFixed(1)}×`);
  console.log(`  ${SECONDS} s of one viewer's load; answers by status:`);
  console.log(`    200 exports of ${N_EVENTS} events: ${JSON.stringify(exports)}`);
  console.log(`    100 snapshots:              ${JSON.stringify(snaps)}`);
  console.log(`    10 uploads of a 16000×16000 JPEG (${(huge.length / 2 ** 20).toFixed(1)} MiB): ${JSON.stringify(uploads)}`);
} finally {
  if (cloud && cloud.exitCode === null) await new Promise<void>((r) => (cloud!.once('exit', () => r()), cloud!.kill('SIGTERM')));
  await rtsp?.close();
  rmSync(dir, { recursive: true, force: true });
}
