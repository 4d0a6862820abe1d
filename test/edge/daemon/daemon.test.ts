import t from 'tap';
import { request } from 'undici';
import { EdgeDaemon } from '../../../edge/daemon/daemon.js';
import { parseEdgeConfig } from '../../../edge/config/load.js';
import { startBroker } from '../../../edge/demo/mqtt-broker.js';
import { IngestServer } from '../../fixtures/ingest-server.js';
import { FakeRecognizer } from '../../fixtures/fake-recognizer.js';
import { tempDir, makeClip, makeGarbage } from '../../fixtures/media.js';
import { waitFor } from '../../fixtures/wait.js';
import { connect } from 'mqtt';

const dir = tempDir(t, 'anpr-daemon-');
const clip = makeClip(dir, { seconds: 2, size: '320x240', rate: 10 });

t.test('frames to events: cloud and MQTT get them, a bad camera never stops a good one, config applies live', async (t) => {
  const cloud = await new IngestServer().start();
  t.teardown(() => cloud.stop());
  const broker = await startBroker();
  t.teardown(() => broker.close());
  const mqttGot: string[] = [];
  const sub = connect(broker.url);
  sub.on('connect', () => sub.subscribe('anpr/#', { qos: 1 }));
  sub.on('message', (topic) => mqttGot.push(topic));
  t.teardown(() => sub.endAsync());
  const cfg = parseEdgeConfig({
    edge_id: 'gate-t',
    data_dir: tempDir(t),
    cloud: { url: cloud.url, api_key: 'test-key-1', sync_config: false },
    cameras: [
      { id: 'cam-good', rtsp_url: clip, fps: 10, resolution: { width: 160, height: 120 }, zone_id: 'z-in' },
      { id: 'cam-bad', rtsp_url: makeGarbage(dir), fps: 5, resolution: { width: 160, height: 120 }, heartbeat_s: 2 },
    ],
    zones: [{ id: 'z-in', camera_id: 'cam-good', type: 'enter', geometry: { type: 'polygon', points: [{ x: 0, y: 0 }, { x: 160, y: 0 }, { x: 160, y: 120 }, { x: 0, y: 120 }] }, allow: ['PCAMGOODN1'] }],
    exporters: [{ name: 'mqtt', type: 'mqtt', url: broker.url }],
    delivery: { initial_backoff_ms: 50, max_backoff_ms: 500 },
    http: { port: 0 },
  });
  const d = new EdgeDaemon({ config: cfg, recognizer: new FakeRecognizer(3) });
  t.teardown(() => d.stop());
  await d.start();

  await waitFor(() => cloud.accepted.length >= 3, '3 events at the cloud');
  const ev = cloud.accepted[0];
  t.equal(ev.body.camera_id, 'cam-good');
  t.equal(ev.body.zone_id, 'z-in');
  t.match(String(ev.body.event_id), /^gate-t-cam-good-\d+-\d+$/);
  t.equal(ev.frame!.subarray(0, 2).toString('hex'), 'ffd8', 'frame is a JPEG');
  t.equal(ev.crop!.subarray(0, 2).toString('hex'), 'ffd8', 'crop is a JPEG');
  const first = cloud.accepted.find((r) => r.body.plate_text === 'PCAMGOODN1')!;
  t.match(first.body.decision, { action: 'open', list: { type: 'allow' }, direction: null }, 'the zone\'s allow-listed plate opens its enter zone');
  t.ok((first.body.decision as { latency_ms: number }).latency_ms >= 0, 'with its latency');
  t.match(cloud.accepted.find((r) => r.body.plate_text === 'PCAMGOODN2')?.body.decision, { action: 'none', list: null }, 'an unknown plate opens nothing');
  await waitFor(() => mqttGot.filter((x) => x === 'anpr/gate-t/cam-good/events').length >= 3, 'MQTT events');

  await waitFor(() => d.status().cameras.find((c) => c.cameraId === 'cam-bad')!.restarts >= 1, 'bad camera restarted');
  const health = await request(`${d.httpUrl}/healthz`);
  t.equal(health.statusCode, 200);
  const h = (await health.body.json()) as { status: string; problems: string[] };
  t.equal(h.status, 'degraded');
  t.match(h.problems.join(), /cam-bad/);
  const metrics = await (await request(`${d.httpUrl}/metrics`)).body.text();
  t.match(metrics, /anpr_camera_frames_total\{camera="cam-good"\} [1-9]/);
  t.match(metrics, /anpr_outbox_depth\{exporter="cloud"\} \d+/);
  t.match(metrics, /anpr_delivery_attempts_total\{exporter="mqtt"\} [1-9]/);
  t.match(metrics, /anpr_stage_latency_ms_bucket\{camera="cam-good",stage="recognize",le="\+Inf"\} [1-9]/);
  t.match(metrics, /anpr_camera_restarts_total\{camera="cam-bad"\} [1-9]/);

  // Live config: drop the bad camera, add a second good one.
  await d.applyConfig(parseEdgeConfig({ ...cfg, cameras: [cfg.cameras[0], { ...cfg.cameras[0], id: 'cam-two', zone_id: null }] }));
  t.same(d.status().cameras.map((c) => c.cameraId).sort(), ['cam-good', 'cam-two']);
  await waitFor(() => cloud.accepted.some((r) => r.cameraId === 'cam-two'), 'events from the new camera');
  const beforeGood = cloud.accepted.filter((r) => r.cameraId === 'cam-good').length;
  await waitFor(() => cloud.accepted.filter((r) => r.cameraId === 'cam-good').length > beforeGood, 'the first camera was not restarted by the change');
  t.equal(d.status().cameras.find((c) => c.cameraId === 'cam-good')!.restarts, 0);
  const status = (await (await request(`${d.httpUrl}/status`)).body.json()) as { outbox: { events_committed_since_start: number; by_exporter: Record<string, { pending: number; dead: number }> } };
  t.ok(status.outbox.events_committed_since_start >= cloud.accepted.length);
  t.same(Object.keys(status.outbox.by_exporter).sort(), ['cloud', 'mqtt']);
});
