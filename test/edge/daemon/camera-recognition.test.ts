/**
 * Per-camera recognition settings reach the running edge: a camera set up through the real
 * cloud's API makes the daemon call `forCamera` with its settings, a changed setting
 * reconfigures that camera's recognizer without restarting its capture, a changed hwaccel
 * restarts the capture with the new decoder; an invalid camera from the cloud does not stop
 * the others.
 */
import t from 'tap';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { startCloud } from '../../../cloud/server.js';
import { silentLogger } from '../../../shared/log.js';
import { EdgeDaemon } from '../../../edge/daemon/daemon.js';
import { parseEdgeConfig } from '../../../edge/config/load.js';
import type { CameraRecognitionSettings, CameraRecognizer } from '../../../edge/contracts.js';
import { FakeRecognizer } from '../../fixtures/fake-recognizer.js';
import { ConfigServer } from '../../fixtures/config-server.js';
import { tempDir, makeClip } from '../../fixtures/media.js';
import { waitFor } from '../../fixtures/wait.js';

/** The fake recognizer, recording every `forCamera` call and its settings. */
class RecordingRecognizer extends FakeRecognizer {
  calls: Array<{ camera: string; settings: CameraRecognitionSettings }> = [];
  override forCamera(cameraId: string, settings: CameraRecognitionSettings = {}): CameraRecognizer {
    this.calls.push({ camera: cameraId, settings: structuredClone(settings) });
    return super.forCamera(cameraId);
  }
  last(camera: string): CameraRecognitionSettings | undefined {
    return this.calls.filter((c) => c.camera === camera).at(-1)?.settings;
  }
}

type LogLine = { level: number; msg: string; camera?: string; hwaccel?: string };
function captureLogs() {
  const logs: LogLine[] = [];
  const logger = pino({ level: 'info' }, new Writable({ write(chunk, _e, cb) { for (const l of String(chunk).split('\n')) if (l) logs.push(JSON.parse(l)); cb(); } }));
  const count = (msg: string, camera: string) => logs.filter((l) => l.msg === msg && l.camera === camera).length;
  return { logs, logger, count };
}

t.test('a camera set up through the cloud API gets its regions and ROI on the running edge; changes apply live', async (t) => {
  const dir = tempDir(t);
  const cloud = await startCloud({ host: '127.0.0.1', port: 0, dataDir: `${dir}/cloud`, logger: silentLogger, env: { ANPR_ADMIN_USER: 'admin', ANPR_ADMIN_PASSWORD: 'recognition-pw' } });
  t.teardown(() => cloud.close());
  const tok = (await (await fetch(`${cloud.url}/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'recognition-pw' }) })).json()) as { access_token: string };
  const admin = async (method: string, path: string, body: unknown) => {
    const r = await fetch(`${cloud.url}${path}`, { method, headers: { authorization: `Bearer ${tok.access_token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
  };
  const roi = { x: 0, y: 240, width: 640, height: 240 };
  // The cloud's schema wants rtsp:// URLs; nothing serves this one, so the capture runs in backoff:
  // forCamera is called when the camera starts, frames or not.
  await admin('POST', '/config/cameras', { id: 'cam-br', name: 'Portão', rtsp_url: 'rtsp://127.0.0.1:1/br', fps: 5, resolution: { width: 640, height: 480 }, metadata: { recognition: { regions: ['br'], roi } } });

  // ffmpeg through a wrapper that writes down its arguments (to see the decoder options).
  const argsLog = join(dir, 'ffmpeg-args.log');
  const ffmpeg = join(dir, 'ffmpeg-wrapper.sh');
  writeFileSync(ffmpeg, `#!/bin/sh\nprintf '%s\\n' "$*" >> '${argsLog}'\nexec ffmpeg "$@"\n`);
  chmodSync(ffmpeg, 0o755);

  const rec = new RecordingRecognizer(3);
  const { logger, count } = captureLogs();
  const cfg = parseEdgeConfig({
    edge_id: 'rec',
    data_dir: `${dir}/edge`,
    cloud: { url: cloud.url, api_key: (await cloud.ctx.apiKeys.create('rec')).key, sync_interval_s: 2, deliver_events: false },
    http: { port: 0 },
  });
  const d = new EdgeDaemon({ config: cfg, recognizer: rec, logger, ffmpegPath: ffmpeg });
  t.teardown(() => d.stop());
  await d.start();
  t.same(rec.last('cam-br'), { regions: ['br'], roi }, "forCamera got the camera's regions and ROI from the cloud");

  // A changed threshold: the recognizer is reconfigured, the capture is not restarted.
  await admin('PUT', '/config/cameras/cam-br', { metadata: { recognition: { min_plate_height: 24, min_confidence: 0.75, confirm_frames: 2 } } });
  await waitFor(() => rec.last('cam-br')?.confirmFrames === 2, 'forCamera called again with the new settings', 20_000, 50);
  t.same(rec.last('cam-br'), { regions: ['br'], roi, minPlateHeight: 24, minConfidence: 0.75, confirmFrames: 2 });
  t.equal(count('camera started', 'cam-br'), 1, 'the capture was not restarted');
  t.equal(count('camera stopped', 'cam-br'), 0);
  t.equal(count('camera recognition settings changed; recognizer reconfigured', 'cam-br'), 1);

  // Unset the ROI (null); change the region.
  await admin('PUT', '/config/cameras/cam-br', { metadata: { recognition: { roi: null, regions: ['lt'] } } });
  await waitFor(() => rec.last('cam-br')?.regions?.[0] === 'lt', 'the region change reached the edge', 20_000, 50);
  t.same(rec.last('cam-br'), { regions: ['lt'], minPlateHeight: 24, minConfidence: 0.75, confirmFrames: 2 }, 'no ROI: the whole frame');
  t.equal(count('camera started', 'cam-br'), 1);

  // A changed hwaccel restarts that camera's capture with the hardware decoder.
  await admin('PUT', '/config/cameras/cam-br', { metadata: { recognition: { hwaccel: 'nvdec' } } });
  await waitFor(() => count('camera started', 'cam-br') === 2, 'the capture restarted', 20_000, 50);
  t.equal(count('camera stopped', 'cam-br'), 1);
  await waitFor(() => existsSync(argsLog) && readFileSync(argsLog, 'utf8').split('\n').some((l) => l.includes('-hwaccel cuda') && l.includes('rtsp://127.0.0.1:1/br')), 'ffmpeg started with -hwaccel cuda', 20_000, 50);
  t.same(rec.last('cam-br'), { regions: ['lt'], minPlateHeight: 24, minConfidence: 0.75, confirmFrames: 2 }, 'the restarted camera keeps its settings');
});

t.test('an invalid camera from the cloud does not stop the other cameras', async (t) => {
  const dir = tempDir(t);
  const clip = makeClip(dir, { seconds: 2, size: '160x120', rate: 10 });
  const cloud = await new ConfigServer().start();
  t.teardown(() => cloud.stop());
  cloud.pageSize = 100;
  const res = { width: 160, height: 120 };
  const good = { id: 'cam-good', name: 'Good', rtsp_url: clip, fps: 10, resolution: res, metadata: { recognition: { regions: ['br'], roi: { x: 0, y: 60, width: 160, height: 60 } } } };
  // Not what the real cloud stores, but what an older cloud or a hand-edited database could serve.
  const odd = { id: 'cam-odd', name: 'Odd', rtsp_url: clip, fps: 10, resolution: res, metadata: { recognition: { regions: ['xx'], confirm_frames: 3, roi: { x: 100, y: 0, width: 100, height: 100 } } } };
  const broken = { id: 'cam-broken', name: 'Broken', rtsp_url: 'ftp://127.0.0.1/x', fps: 10, resolution: res };
  cloud.lists.cameras = [good, odd, broken];

  const rec = new RecordingRecognizer(3);
  const { logger, count, logs } = captureLogs();
  const cfg = parseEdgeConfig({
    edge_id: 'bad-cam',
    data_dir: `${dir}/edge`,
    cloud: { url: cloud.url, api_key: cloud.apiKey, sync_interval_s: 2, deliver_events: false },
    http: { port: 0 },
  });
  const d = new EdgeDaemon({ config: cfg, recognizer: rec, logger });
  t.teardown(() => d.stop());
  await d.start();
  t.equal(d.status().config_source, 'cloud');
  t.same(d.status().cameras.map((c) => c.cameraId).sort(), ['cam-good', 'cam-odd'], 'the broken camera is left out, the others run');
  t.same(rec.last('cam-good'), { regions: ['br'], roi: good.metadata.recognition.roi });
  t.same(rec.last('cam-odd'), { regions: [], confirmFrames: 3 }, 'the bad region and ROI are ignored, the good setting kept');
  t.ok(logs.some((l) => l.camera === 'cam-broken' && /invalid/.test(l.msg)), 'the broken camera is logged');
  t.ok(logs.some((l) => l.camera === 'cam-odd' && /invalid/.test(l.msg)), 'the ignored settings are logged');
  const frames = (id: string) => d.status().cameras.find((c) => c.cameraId === id)?.frames ?? 0;
  await waitFor(() => frames('cam-good') >= 5 && frames('cam-odd') >= 5 && d.eventsCommitted >= 2, 'both cameras deliver frames and events', 30_000, 50);

  // The running good camera turns invalid in the cloud while another camera changes: the change
  // applies, the good camera keeps its version in force and keeps running.
  cloud.lists.cameras = [{ ...good, rtsp_url: 'not a url' }, { ...odd, metadata: { recognition: { confirm_frames: 4 } } }, broken];
  await waitFor(() => rec.last('cam-odd')?.confirmFrames === 4, 'the valid change reached cam-odd', 20_000, 50);
  const before = frames('cam-good');
  const events = d.eventsCommitted;
  await waitFor(() => frames('cam-good') >= before + 5 && d.eventsCommitted > events, 'cam-good keeps running', 30_000, 50);
  t.equal(count('camera stopped', 'cam-good'), 0, 'the good camera was never stopped');
  t.equal(count('camera started', 'cam-odd'), 1, 'cam-odd was reconfigured, not restarted');
  t.equal(d.status().cameras.find((c) => c.cameraId === 'cam-good')!.state, 'running');
  t.ok(logs.some((l) => l.camera === 'cam-good' && /invalid/.test(l.msg)), 'the invalid version is logged');
});
