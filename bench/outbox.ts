/**
 * Outbox benchmark (`npm run bench -- outbox`).
 *  1. Commit rate of `Outbox.add` with a 640x360 frame + plate-sized crop JPEG: durable (fsync of both images,
 *     the directory and the WAL commit) against the same code with fsync off (baseline); ratio.
 *  2. Delivery rate from a pre-filled outbox (4 cameras, one event in flight per camera, multipart
 *     with images) to the real cloud in its own process (rate limit lifted), against a loopback
 *     server that only reads the body and answers 202 (baseline: the edge's own cost); ratio.
 * Env: BENCH_EVENTS (default 1000).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Outbox } from '../edge/outbox/outbox.js';
import { DeliveryWorker } from '../edge/exporters/dispatcher.js';
import { CloudRestExporter } from '../edge/exporters/rest.js';
import { createServer } from 'node:http';
import { sampleEvent } from '../test/fixtures/events.js';

const N = Number(process.env.BENCH_EVENTS ?? 1000);
const root = mkdtempSync(join(tmpdir(), 'anpr-bench-outbox-'));
let frame: Buffer;
let crop: Buffer;

/** Real JPEGs (the cloud checks them): noise compresses badly, giving realistic sizes. */
async function makeImages(): Promise<void> {
  const { default: sharp } = await import('sharp');
  const { randomBytes } = await import('node:crypto');
  frame = await sharp(randomBytes(200 * 150 * 3), { raw: { width: 200, height: 150, channels: 3 } }).resize(640, 360).jpeg({ quality: 80 }).toBuffer();
  crop = await sharp(randomBytes(60 * 20 * 3), { raw: { width: 60, height: 20, channels: 3 } }).resize(180, 60).jpeg({ quality: 90 }).toBuffer();
}

function fill(dataDir: string, n: number, unsafe: boolean): number {
  const ob = new Outbox({ dataDir, exporters: ['cloud'], unsafeNoFsync: unsafe });
  const t0 = performance.now();
  for (let i = 0; i < n; i++) ob.add(sampleEvent(i, `cam-${i % 4}`, 'bench'), { frame, crop });
  const rate = n / ((performance.now() - t0) / 1000);
  ob.close();
  return rate;
}

async function drain(dataDir: string, url: string, key: string): Promise<number> {
  const ob = new Outbox({ dataDir, exporters: ['cloud'] });
  const ex = new CloudRestExporter({ url, apiKey: key });
  await ex.start();
  const w = new DeliveryWorker(ob, ex, { pollMs: 50, backoff: { initialMs: 50, maxMs: 500 } });
  const t0 = performance.now();
  w.start();
  while (ob.stats().byExporter.cloud.pending > 0) await new Promise((r) => setTimeout(r, 20));
  const rate = N / ((performance.now() - t0) / 1000);
  await w.stop();
  await ex.stop();
  const st = ob.stats().byExporter.cloud;
  const dead = ob.deadLetters(1);
  ob.close();
  if (st.delivered !== N) throw new Error(`delivered ${st.delivered} of ${N}: ${JSON.stringify(st)} ${JSON.stringify(dead)}`);
  return rate;
}

function startCloud(): Promise<{ port: number; key: string; stop: () => void }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./outbox-cloud-server.ts', import.meta.url))], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /listening (\d+) (\S+)/.exec(out);
      if (m) resolve({ port: Number(m[1]), key: m[2], stop: () => child.kill('SIGTERM') });
    });
    child.on('exit', (c) => reject(new Error(`cloud exited ${c}`)));
  });
}

async function main() {
  await makeImages();
  console.log(`outbox bench: ${N} events, ${(frame.length / 1024).toFixed(0)} KB frame + ${(crop.length / 1024).toFixed(0)} KB crop JPEGs each, 4 cameras; load average ${(await import('node:os')).loadavg()[0].toFixed(1)}`);
  const durable = fill(join(root, 'a'), N, false);
  const unsafe = fill(join(root, 'b'), N, true);
  console.log(`commit  durable (fsync, synchronous=FULL): ${durable.toFixed(0)} events/s`);
  console.log(`commit  baseline (no fsync):               ${unsafe.toFixed(0)} events/s   ratio ${(durable / unsafe).toFixed(2)}`);
  fill(join(root, 'c'), N, true);
  // Baseline: a server that reads the body and answers 202 — the edge's own cost.
  const stand = createServer((req, res) => { req.resume(); req.on('end', () => res.writeHead(202, { 'content-type': 'application/json' }).end('{}')); });
  await new Promise<void>((r) => stand.listen(0, '127.0.0.1', r));
  const base = await drain(join(root, 'c'), `http://127.0.0.1:${(stand.address() as { port: number }).port}`, 'k');
  stand.close();
  const cloud = await startCloud();
  try {
    const real = await drain(join(root, 'b'), `http://127.0.0.1:${cloud.port}`, cloud.key);
    console.log(`deliver to the real cloud (own process):   ${real.toFixed(0)} events/s`);
    console.log(`deliver baseline (server that only reads the body): ${base.toFixed(0)} events/s   ratio ${(real / base).toFixed(2)}`);
  } finally {
    cloud.stop();
  }
}

main()
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(() => rmSync(root, { recursive: true, force: true }));
