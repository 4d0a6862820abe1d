/**
 * Edge memory through a cloud outage (`npm run bench -- outbox-outage`).
 * A real edge process (the daemon with the fake recognizer: one camera, ffmpeg at 10 fps,
 * one confirmed read every 2 frames = 5 events/s, 640x360 JPEGs) delivers to the real cloud
 * (in its own process). The cloud is stopped for BENCH_OUTAGE_S (default 600 s) and started
 * again. Prints the edge's RSS before, during and at the end of the outage (baseline: before),
 * the backlog, and how long the backlog took to drain.
 */
import { writeFileSync, mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { makeClip } from '../test/fixtures/media.js';
import { freePort, createApiKey, startCloudProcess, startEdgeProcess } from '../test/fixtures/processes.js';

const OUTAGE_S = Number(process.env.BENCH_OUTAGE_S ?? 600);
const dir = mkdtempSync(join(tmpdir(), 'anpr-bench-outage-'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rssMiB = (pid: number) => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
};
const pending = (dataDir: string) => {
  const db = new Database(join(dataDir, 'outbox.db'), { readonly: true });
  try {
    return (db.prepare("SELECT COUNT(*) AS n FROM deliveries WHERE exporter = 'cloud' AND state = 'pending'").get() as { n: number }).n;
  } finally {
    db.close();
  }
};

async function main() {
  const clip = makeClip(dir, { seconds: 4, size: '640x360', rate: 10 });
  const cloudDir = join(dir, 'cloud');
  const port = await freePort();
  let cloud = await startCloudProcess(cloudDir, port);
  const key = await createApiKey(cloudDir, 'bench');
  const dataDir = join(dir, 'edge');
  const cfgFile = join(dir, 'edge.json');
  writeFileSync(cfgFile, JSON.stringify({
    edge_id: 'bench', data_dir: dataDir,
    cloud: { url: `http://127.0.0.1:${port}`, api_key: key, sync_config: false },
    cameras: [{ id: 'cam-1', rtsp_url: clip, fps: 10, resolution: { width: 640, height: 360 } }],
    delivery: { initial_backoff_ms: 500, max_backoff_ms: 30_000 },
    http: { port: 0 }, log_level: 'error',
  }));
  const edge = startEdgeProcess(cfgFile, 2);
  const pid = edge.child.pid!;
  await sleep(30_000);
  const before = rssMiB(pid);
  console.log(`edge RSS with the cloud up (baseline): ${before.toFixed(1)} MiB`);
  await cloud.kill('SIGTERM');
  const t0 = Date.now();
  const samples: string[] = [];
  while (Date.now() - t0 < OUTAGE_S * 1000) {
    await sleep(Math.min(60_000, OUTAGE_S * 100));
    samples.push(`${Math.round((Date.now() - t0) / 1000)}s: ${rssMiB(pid).toFixed(1)} MiB, backlog ${pending(dataDir)}`);
    console.log('  outage ' + samples[samples.length - 1]);
  }
  const during = rssMiB(pid);
  const backlog = pending(dataDir);
  console.log(`after ${OUTAGE_S} s of outage at ~5 events/s: edge RSS ${during.toFixed(1)} MiB (${(during / before).toFixed(2)}x baseline), backlog ${backlog} events`);
  cloud = await startCloudProcess(cloudDir, port);
  const t1 = Date.now();
  while (pending(dataDir) > 5 && Date.now() - t1 < 600_000) await sleep(500);
  console.log(`backlog drained in ${((Date.now() - t1) / 1000).toFixed(1)} s while new events kept coming; edge RSS ${rssMiB(pid).toFixed(1)} MiB`);
  await edge.kill('SIGTERM');
  await cloud.kill('SIGTERM');
}

main()
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(() => rmSync(dir, { recursive: true, force: true }));
