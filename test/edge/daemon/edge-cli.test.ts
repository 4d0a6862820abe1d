/**
 * The shipped path: `anpr edge --config FILE` with the real recognition pipeline (npm-shipped
 * models) on the synthetic camera, delivering to a loopback cloud stand-in.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDemoClip, DEMO_PLATES } from '../../../edge/demo/synthetic-camera.js';
import { IngestServer } from '../../fixtures/ingest-server.js';
import { tempDir } from '../../fixtures/media.js';
import { waitFor } from '../../fixtures/wait.js';

const anpr = fileURLToPath(new URL('../../../bin/anpr.js', import.meta.url));

t.test('anpr edge reads the synthetic camera\'s plate with the real models and delivers it', async (t) => {
  const dir = tempDir(t);
  const plate = DEMO_PLATES[2];
  const { loop } = await ensureDemoClip({ dir, width: 640, height: 360, fps: 4, plates: [plate], secondsPerVehicle: 8, loopMinutes: 0.5 });
  const cloud = await new IngestServer().start();
  t.teardown(() => cloud.stop());
  const file = join(dir, 'edge.yaml');
  writeFileSync(file, [
    'edge_id: cli-edge',
    `data_dir: ${join(dir, 'data')}`,
    `cloud: { url: "${cloud.url}", api_key: "test-key-123", sync_config: false }`,
    'cameras:',
    `  - { id: gate, rtsp_url: "${loop}", fps: 2, resolution: { width: 640, height: 360 } }`,
    'recognition: { min_frames: 2, dedup_window_s: 60 }',
    'http: { port: 0 }',
    'log_level: warn',
  ].join('\n'));
  const child = spawn(process.execPath, [anpr, 'edge', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (out += c));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  t.teardown(() => { child.kill('SIGKILL'); });
  const want = plate.replace(/\s/g, '');
  await waitFor(() => cloud.accepted.some((r) => r.body.plate_text === want) || child.exitCode !== null, `an event for ${want}`, 55_000, 200).catch(() => {});
  t.equal(child.exitCode, null, `still running ${out.slice(-400)}`);
  const ev = cloud.accepted.find((r) => r.body.plate_text === want);
  t.ok(ev, `the plate read by the real pipeline (events: ${JSON.stringify(cloud.accepted.map((r) => r.body.plate_text))})`);
  if (!ev) return;
  t.ok(((ev.body.raw_candidates as unknown[]) ?? []).length >= 1, 'per-engine candidates kept');
  t.equal(ev.frame!.subarray(0, 2).toString('hex'), 'ffd8');
  child.kill('SIGTERM');
  t.equal(await exited, 0, 'clean exit on SIGTERM');
});
