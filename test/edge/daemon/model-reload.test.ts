/**
 * Models changed in the cloud are applied live: the real cloud, the real daemon with cloud sync,
 * a real RTSP camera (GStreamer) through ffmpeg; the recognizer factory is injected so each
 * model set gets its own FakeRecognizer instance that the test can watch.
 */
import t from 'tap';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { startCloud } from '../../../cloud/server.js';
import { silentLogger } from '../../../shared/log.js';
import { AppError } from '../../../shared/errors.js';
import { EdgeDaemon } from '../../../edge/daemon/daemon.js';
import { parseEdgeConfig } from '../../../edge/config/load.js';
import { startRtspServer } from '../../../edge/demo/rtsp-server.js';
import type { RecognizerOptions } from '../../../edge/recognize/index.js';
import { FakeRecognizer } from '../../fixtures/fake-recognizer.js';
import { tempDir, makeClip } from '../../fixtures/media.js';
import { waitFor } from '../../fixtures/wait.js';

t.test('a model change in the cloud builds a new recognizer in the background and swaps it in; a failed load keeps the old one', async (t) => {
  const dir = tempDir(t);
  const clip = makeClip(dir, { seconds: 120, size: '160x120', rate: 10 });
  const rtsp = await startRtspServer({ file: clip, path: '/gate' });
  t.teardown(() => rtsp.close());
  const cloud = await startCloud({ host: '127.0.0.1', port: 0, dataDir: `${dir}/cloud`, logger: silentLogger, env: { ANPR_ADMIN_USER: 'admin', ANPR_ADMIN_PASSWORD: 'model-test-pw' } });
  t.teardown(() => cloud.close());
  const tok = (await (await fetch(`${cloud.url}/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'model-test-pw' }) })).json()) as { access_token: string };
  const admin = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${cloud.url}${path}`, { method, headers: { authorization: `Bearer ${tok.access_token}`, 'content-type': 'application/json' }, body: body ? JSON.stringify(body) : undefined });
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
    const text = await r.text();
    return (text ? JSON.parse(text) : {}) as Record<string, unknown>;
  };
  await admin('POST', '/config/cameras', { id: 'cam-1', name: 'Gate', rtsp_url: rtsp.url, fps: 5, resolution: { width: 160, height: 120 } });
  await admin('POST', '/config/models', { id: 'ocr-1', name: 'tesseract', type: 'ocr', weights_path: 'tesseract-eng' });
  const key = (await cloud.ctx.apiKeys.create('models')).key;

  // Logs, to check that a failed load says so once.
  const logs: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, new Writable({ write(chunk, _e, cb) { for (const l of String(chunk).split('\n')) if (l) logs.push(JSON.parse(l)); cb(); } }));

  // Each load builds a new FakeRecognizer; a load can be held open to watch the old one keep serving.
  const built: Array<{ opts: RecognizerOptions; rec: FakeRecognizer }> = [];
  let hold: Promise<void> | null = null;
  let loads = 0;
  const loadRecognizer = async (opts: RecognizerOptions) => {
    loads++;
    if (hold) await hold;
    if (opts.engines?.includes('broken')) throw new AppError('CONFIG_INVALID', "unknown engine 'broken'");
    const rec = new FakeRecognizer(3);
    rec.label = (opts.engines ?? []).join('+');
    built.push({ opts, rec });
    return rec;
  };

  const injected = new FakeRecognizer(3);
  injected.label = 'injected';
  const cfg = parseEdgeConfig({
    edge_id: 'models',
    data_dir: `${dir}/edge`,
    cloud: { url: cloud.url, api_key: key, sync_interval_s: 2, deliver_events: false },
    recognition: { min_frames: 2 },
    http: { port: 0 },
  });
  const d = new EdgeDaemon({ config: cfg, recognizer: injected, loadRecognizer, logger });
  t.teardown(() => d.stop());
  await d.start();
  const events = () => d.status().outbox!.events_committed_since_start;

  // 1. At start the cloud already lists a model: the injected recognizer (built without it) is replaced.
  await waitFor(() => built.length === 1 && injected.disposed, 'the recognizer for the cloud model set replaced the injected one', 30_000, 50);
  const first = built[0].rec;
  t.same(built[0].opts.engines, ['tesseract'], "the cloud's ocr model names the engine");
  t.equal(built[0].opts.minFrames, 2, 'the config still applies');
  t.equal(d.recognizer, first);
  t.ok(d.injectedReplaced, 'the daemon disposed the injected recognizer');
  await waitFor(() => first.pushed >= 6 && events() >= 2, 'frames reach the new recognizer and events are stored', 30_000, 50);

  // 2. A model added in the cloud: a new recognizer is built while the old one keeps serving.
  let release!: () => void;
  hold = new Promise<void>((r) => (release = r));
  await admin('POST', '/config/models', { id: 'ocr-2', name: 'paddle', type: 'ocr', weights_path: 'ppocr-rec', metadata: { engine: 'paddle-ocr' } });
  await waitFor(() => loads === 2, 'the model change started a load', 30_000, 50);
  t.ok(d.status().models.reloading, '/status says a load is in progress');
  const during = first.pushed;
  const eventsDuring = events();
  await waitFor(() => first.pushed >= during + 5 && events() > eventsDuring, 'the old recognizer keeps serving while the new one loads', 30_000, 50);
  t.equal(d.recognizer, first);
  t.notOk(first.disposed);
  hold = null;
  release();
  await waitFor(() => built.length === 2 && first.disposed, 'the new recognizer swapped in and the old one disposed', 30_000, 50);
  const second = built[1].rec;
  t.not(second, first, 'a new recognizer instance');
  t.same(built[1].opts.engines!.slice().sort(), ['paddle-ocr', 'tesseract']);
  t.equal(d.recognizer, second);
  const afterSwap = events();
  await waitFor(() => second.pushed >= 6 && events() > afterSwap, 'frames keep flowing through the new recognizer', 30_000, 50);
  t.equal(d.status().models.generation, 2);
  t.equal(d.status().models.last_error, null);

  // 3. A model set that fails to load: the recognizer in force stays, one clear error is logged.
  await admin('POST', '/config/models', { id: 'ocr-3', name: 'broken', type: 'ocr', weights_path: 'nowhere.onnx' });
  await waitFor(() => d.status().models.last_error !== null, 'the failed load is reported', 30_000, 50);
  t.match(d.status().models.last_error, /broken/);
  const errors = logs.filter((l) => l.level === 50 && /loading the new model set failed/.test(String(l.msg)));
  t.equal(errors.length, 1, 'one error line for the failed load');
  t.equal(d.recognizer, second, 'the old recognizer keeps serving');
  t.notOk(second.disposed);
  const before = second.pushed;
  const eventsBefore = events();
  await waitFor(() => second.pushed >= before + 5 && events() > eventsBefore, 'frames keep flowing after the failed load', 30_000, 50);
  // The same broken set is not retried on every poll (only a new change is).
  const polledAt = d.status().config_synced_at!;
  await waitFor(() => d.status().config_synced_at! > polledAt + 3000, 'two more polls of the cloud', 30_000, 50);
  t.equal(loads, 3, 'the failing set was loaded once');
  const metrics = await (await fetch(`${d.httpUrl}/metrics`)).text();
  t.match(metrics, /anpr_model_reload_failures_total 1/);
  t.match(metrics, /anpr_model_reloads_total 2/);
  t.notMatch(metrics, /anpr_recognition_errors_total/, 'no frame went to a disposed recognizer');

  // 4. Fixing the broken model in the cloud gives a loadable set: a third recognizer.
  await admin('PUT', '/config/models/ocr-3', { name: 'fast', metadata: { engine: 'fast-plate-ocr' } });
  await waitFor(() => built.length === 3 && second.disposed, 'the next good set swaps in', 30_000, 50);
  const third = built[2].rec;
  t.same(built[2].opts.engines!.slice().sort(), ['fast-plate-ocr', 'paddle-ocr', 'tesseract']);
  const afterThird = events();
  await waitFor(() => third.pushed >= 3 && events() > afterThird, 'frames flow through the third recognizer', 30_000, 50);
  await d.stop();
  t.ok(third.disposed, 'stop disposes the recognizer the daemon built');

  // 5. An offline start uses the cached model list too.
  await cloud.close();
  const offline: RecognizerOptions[] = [];
  const d2 = new EdgeDaemon({ config: cfg, recognizer: new FakeRecognizer(3), loadRecognizer: async (opts) => (offline.push(opts), new FakeRecognizer(3)) });
  t.teardown(() => d2.stop());
  await d2.start();
  t.equal(d2.status().config_source, 'cache');
  await waitFor(() => d2.status().models.generation === 1, 'the cached model set is loaded', 30_000, 50);
  t.same(offline[0].engines!.slice().sort(), ['fast-plate-ocr', 'paddle-ocr', 'tesseract']);
  await d2.stop();
});

t.test("a changed `models` section in an applied config swaps the recognizer the same way", async (t) => {
  const dir = tempDir(t);
  const clip = makeClip(dir, { seconds: 3, size: '160x120', rate: 10 });
  const built: Array<{ opts: RecognizerOptions; rec: FakeRecognizer }> = [];
  const injected = new FakeRecognizer(3);
  const cfg = parseEdgeConfig({
    edge_id: 'models-local',
    data_dir: `${dir}/edge`,
    cameras: [{ id: 'cam-1', rtsp_url: clip, fps: 10, resolution: { width: 160, height: 120 } }],
    http: { port: 0 },
  });
  const d = new EdgeDaemon({
    config: cfg,
    recognizer: injected,
    loadRecognizer: async (opts) => {
      const rec = new FakeRecognizer(3);
      built.push({ opts, rec });
      return rec;
    },
  });
  t.teardown(() => d.stop());
  await d.start();
  await waitFor(() => injected.pushed >= 3, 'frames reach the injected recognizer', 30_000, 50);
  await d.applyConfig(parseEdgeConfig({ ...cfg, zones: [] }));
  t.equal(built.length, 0, 'an unrelated change does not reload the models');
  await d.applyConfig(parseEdgeConfig({ ...cfg, models: { ...cfg.models, mirror: `${dir}/mirror` } }));
  await waitFor(() => built.length === 1 && injected.disposed, 'the new recognizer swapped in', 30_000, 50);
  t.equal(built[0].opts.mirror, `${dir}/mirror`);
  const events = d.eventsCommitted;
  await waitFor(() => built[0].rec.pushed >= 3 && d.eventsCommitted > events, 'frames and events keep flowing', 30_000, 50);
  t.equal(d.status().cameras[0].restarts, 0, 'the camera was not restarted');
});
