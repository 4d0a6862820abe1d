import t from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseEdgeConfig } from '../../../edge/config/load.js';
import { runDoctor, formatResults } from '../../../edge/daemon/doctor.js';
import { tempDir, makeClip } from '../../fixtures/media.js';
import { ConfigServer } from '../../fixtures/config-server.js';

const anpr = fileURLToPath(new URL('../../../bin/anpr.js', import.meta.url));

t.test('doctor: a working camera passes, a dead one fails with a fix and no credentials; cloud key and disk budget checked', async (t) => {
  const dir = tempDir(t);
  const cloud = await new ConfigServer().start();
  t.teardown(() => cloud.stop());
  const cfg = parseEdgeConfig({
    edge_id: 'doc',
    data_dir: join(dir, 'data'),
    cloud: { url: cloud.url, api_key: 'wrong-key-123' },
    cameras: [
      { id: 'good', rtsp_url: makeClip(dir), resolution: { width: 160, height: 120 } },
      { id: 'dead', rtsp_url: 'rtsp://admin:hunter2@127.0.0.1:1/stream', resolution: { width: 160, height: 120 } },
    ],
    outbox: { image_budget_mb: 9_000_000 },
  });
  const results = await runDoctor(cfg, { cameraTimeoutS: 3, skipModels: true });
  const by = Object.fromEntries(results.map((r) => [r.name, r]));
  t.equal(by.ffmpeg.state, 'ok');
  t.equal(by['camera good'].state, 'ok');
  t.match(by['camera good'].detail, /h264 160x120/);
  t.equal(by['camera dead'].state, 'fail');
  t.match(by['camera dead'].fix, /reachable/);
  t.equal(by['cloud API key'].state, 'fail', 'a wrong key is caught');
  t.match(by['cloud API key'].fix, /anpr apikey create/);
  t.not(by['disk budget'].state, 'ok', 'a budget larger than the disk is flagged');
  const text = formatResults(results);
  t.notMatch(text, /hunter2/, 'no credentials in the report');
  t.match(text, /problem\(s\) to fix/);
});

t.test('anpr doctor: exit 0 when all is well, prints checks including models', async (t) => {
  const dir = tempDir(t);
  const cloud = await new ConfigServer().start();
  t.teardown(() => cloud.stop());
  const file = join(dir, 'edge.yaml');
  writeFileSync(file, `edge_id: doc2\ndata_dir: ${join(dir, 'data')}\noutbox: { image_budget_mb: 1 }\ncloud: { url: ${cloud.url}, api_key: ${cloud.apiKey} }\ncameras:\n  - { id: c1, rtsp_url: ${makeClip(dir)}, resolution: { width: 160, height: 120 } }\n`);
  const { stdout } = await promisify(execFile)(process.execPath, [anpr, 'doctor', '--config', file, '--timeout', '5'], { timeout: 50_000 });
  t.match(stdout, /\[ok  \] camera c1/);
  t.match(stdout, /\[ok  \] cloud API key: accepted/);
  t.match(stdout, /model /, 'models and checksums are checked');
  t.match(stdout, /provider cpu: available/);
});
