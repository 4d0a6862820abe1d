import t from 'tap';
import { EdgeDaemon } from '../../../edge/daemon/daemon.js';
import { parseEdgeConfig } from '../../../edge/config/load.js';
import { mergeRemote, type ConfigProblem } from '../../../edge/config/cloud-sync.js';
import type { AppError } from '../../../shared/errors.js';
import type { EdgeConfig } from '../../../edge/config/schema.js';
import { FakeRecognizer } from '../../fixtures/fake-recognizer.js';
import { tempDir, makeClip } from '../../fixtures/media.js';
import { waitFor } from '../../fixtures/wait.js';

const dir = tempDir(t, 'anpr-bad-url-');
const clip = makeClip(dir, { seconds: 2, size: '160x120', rate: 10 });

t.test('a camera URL with a NUL byte (as the cloud once accepted) fails alone: the cameras after it start', async (t) => {
  const good = parseEdgeConfig({
    edge_id: 'gate-nul',
    data_dir: tempDir(t),
    cameras: [{ id: 'cam-good', rtsp_url: clip, fps: 10, resolution: { width: 160, height: 120 } }],
    http: { port: 0 },
  });
  // Past the schema on purpose: the daemon must hold even when validation upstream did not.
  const bad = { ...good.cameras[0], id: 'cam-nul', rtsp_url: 'rtsp://u:pw@127.0.0.1:1/x\u0000y' };
  const cfg: EdgeConfig = { ...good, cameras: [bad, good.cameras[0], { ...good.cameras[0], id: 'cam-late' }] };
  const d = new EdgeDaemon({ config: cfg, recognizer: new FakeRecognizer(3), http: false });
  t.teardown(() => d.stop());
  await d.start();
  await waitFor(() => d.eventsCommitted >= 2, 'events from the good cameras');
  const cams = d.status().cameras;
  const nul = cams.find((c) => c.cameraId === 'cam-nul')!;
  t.equal(nul.state, 'failed');
  t.notMatch(nul.lastError, /pw/);
  t.ok(cams.find((c) => c.cameraId === 'cam-late'), 'the camera after the bad one started');
  await waitFor(() => d.status().cameras.filter((c) => c.state === 'running').length === 2, 'both good cameras running');
  const h = d.health();
  t.equal(h.status, 'degraded');
  t.match(h.problems.join(), /cam-nul: failed/);

  // Fixing the URL restarts the camera.
  await d.applyConfig({ ...cfg, cameras: [{ ...bad, rtsp_url: clip }, good.cameras[0]] });
  await waitFor(() => d.status().cameras.find((c) => c.cameraId === 'cam-nul')?.state === 'running', 'fixed camera running');
});

t.test('the edge schema and the cloud sync drop a camera whose URL or ffmpeg args hold control characters, with a clear error', async (t) => {
  const base = parseEdgeConfig({ edge_id: 'gate-nul', data_dir: tempDir(t) });
  const why = (raw: unknown) => {
    try {
      parseEdgeConfig(raw);
    } catch (e) {
      return JSON.stringify((e as AppError).errors);
    }
    return 'accepted';
  };
  t.match(why({ ...base, cameras: [{ id: 'c', rtsp_url: 'rtsp://h/a\u0000' }] }), /cameras\.0\.rtsp_url.*control characters/);
  t.match(why({ ...base, cameras: [{ id: 'c', rtsp_url: clip, ffmpeg_input_args: ['-rtsp_transport', 'tcp\n'] }] }), /ffmpeg_input_args.*control characters/);
  const problems: ConfigProblem[] = [];
  const merged = mergeRemote(base, {
    cameras: [
      { id: 'cam-nul', rtsp_url: 'rtsp://h/a\u0000b' },
      { id: 'cam-cr', rtsp_url: 'rtsp://h/a\rb' },
      { id: 'cam-ok', rtsp_url: 'rtsp://h/ok' },
    ],
    zones: [], sensors: [], models: [], exporters: [],
  }, { problems }) as EdgeConfig;
  t.same(merged.cameras.map((c) => c.id), ['cam-ok']);
  t.same(problems.map((p) => [p.id, p.dropped]), [['cam-nul', 'item'], ['cam-cr', 'item']]);
  t.match(problems[0].errors.join(), /control characters/);
  t.doesNotThrow(() => parseEdgeConfig(merged), 'the merged config is valid');
});
