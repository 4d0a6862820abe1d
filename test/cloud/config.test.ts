import t from 'tap';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { Aedes } from 'aedes';
import { startTestCloud } from './helpers.js';

const camera = {
  name: 'Entrance Main',
  rtsp_url: 'rtsp://admin:password@127.0.0.1:8554/stream1',
  enabled: true,
  zone_id: 'zone-entrance',
  fps: 10,
  resolution: { width: 1920, height: 1080 },
  detection_model: 'yolov8-vehicle',
  ocr_models: ['paddle-ocr-lt', 'tesseract-lt'],
  metadata: { location: 'Main gate' },
};
const square = { type: 'polygon', points: [{ x: 100, y: 200 }, { x: 500, y: 200 }, { x: 500, y: 600 }, { x: 100, y: 600 }] };

t.test('cameras: create 201, get, list with enabled filter, partial PUT, delete 204 then 404', async (t) => {
  const c = await startTestCloud(t);
  const opts = { token: c.adminToken };
  const r = await c.req('/config/cameras', { method: 'POST', ...opts, json: camera });
  t.equal(r.status, 201);
  const cam = await r.json();
  t.equal(cam.id, 'cam-001');
  t.match(cam, { ...camera });
  t.ok(cam.created_at && cam.updated_at);
  const second = await (await c.req('/config/cameras', { method: 'POST', ...opts, json: { ...camera, name: 'Exit', enabled: false } })).json();
  t.equal(second.id, 'cam-002', 'ids are generated in sequence');
  t.equal((await c.req('/config/cameras', { method: 'POST', ...opts, json: { ...camera, id: 'cam-001' } })).status, 409, 'client id must be new');

  const enabled = await (await c.req('/config/cameras?enabled=true', opts)).json();
  t.same(enabled.items.map((x: { id: string }) => x.id), ['cam-001']);
  t.equal(enabled.total, 1);
  const all = await (await c.req('/config/cameras?skip=1&limit=1', opts)).json();
  t.same([all.total, all.skip, all.limit, all.items[0].id], [2, 1, 1, 'cam-002']);

  const up = await c.req('/config/cameras/cam-001', { method: 'PUT', ...opts, json: { name: 'Entrance Main (Updated)', enabled: false, fps: 15, metadata: { location: 'Main gate - Updated' } } });
  t.equal(up.status, 200);
  const u = await up.json();
  t.match(u, { name: 'Entrance Main (Updated)', enabled: false, fps: 15, rtsp_url: camera.rtsp_url, resolution: camera.resolution, metadata: { location: 'Main gate - Updated' } });
  t.equal(u.created_at, cam.created_at);
  t.not(u.updated_at, cam.updated_at);
  t.same(await (await c.req('/config/cameras/cam-001', opts)).json(), u, 'PUT persisted');

  const bad = await c.req('/config/cameras/cam-001', { method: 'PUT', ...opts, json: { fps: 500, rtsp_url: 'http://127.0.0.1/x' } });
  t.equal(bad.status, 400);
  const be = await bad.json();
  t.same(be.errors.map((e: { field: string }) => e.field).sort(), ['fps', 'rtsp_url']);
  t.ok(be.errors.some((e: { message: string }) => /Invalid RTSP URL format/.test(e.message)));
  t.same(await (await c.req('/config/cameras/cam-001', opts)).json(), u, 'a failed PUT changes nothing');
  t.equal((await c.req('/config/cameras/cam-001', { method: 'PUT', ...opts, json: { id: 'cam-009' } })).status, 400, 'id cannot change');

  t.equal((await c.req('/config/cameras/cam-001', { method: 'DELETE', ...opts })).status, 204);
  const gone = await c.req('/config/cameras/cam-001', opts);
  t.equal(gone.status, 404);
  t.equal((await gone.json()).detail, 'Camera not found');
  t.equal((await c.req('/config/cameras/cam-001', { method: 'DELETE', ...opts })).status, 404);
  t.equal((await c.req('/config/cameras/cam-001', { method: 'PUT', ...opts, json: { fps: 5 } })).status, 404);
});

t.test('validation: RTSP form, polygons, enums, unknown fields, bad JSON', async (t) => {
  const c = await startTestCloud(t);
  const opts = { token: c.adminToken };
  for (const url of ['http://127.0.0.1/a', 'rtsp://', 'not a url', 'rtsp://host/with space']) {
    const r = await c.req('/config/cameras', { method: 'POST', ...opts, json: { ...camera, rtsp_url: url } });
    t.equal(r.status, 400, url);
    t.same((await r.json()).errors, [{ field: 'rtsp_url', message: 'rtsp_url: Invalid RTSP URL format' }]);
  }
  await c.req('/config/cameras', { method: 'POST', ...opts, json: camera });
  const zone = (g: unknown, extra = {}) => c.req('/config/zones', { method: 'POST', ...opts, json: { name: 'Z', camera_id: 'cam-001', type: 'enter', geometry: g, ...extra } });
  t.equal((await zone({ type: 'polygon', points: square.points.slice(0, 2) })).status, 400, 'two points');
  t.equal((await zone({ type: 'polygon', points: [{ x: 0, y: 0 }, { x: 1, y: 1 }, { x: 2, y: 2 }] })).status, 400, 'collinear');
  t.equal((await zone({ type: 'polygon', points: [{ x: -5, y: 0 }, ...square.points] })).status, 400, 'out of bounds');
  t.equal((await zone({ type: 'circle', points: square.points })).status, 400, 'not a polygon');
  t.equal((await zone(square, { type: 'sideways' })).status, 400, 'zone type enum');
  t.equal((await zone(square, { camera_id: 'cam 1' })).status, 400, 'camera_id must be a safe id');
  const ok = await zone(square);
  t.equal(ok.status, 201);
  t.same((await ok.json()).geometry, square);
  const unknown = await c.req('/config/sensors', { method: 'POST', ...opts, json: { name: 'S', type: 'tpms', colour: 'red' } });
  t.equal(unknown.status, 400);
  t.same((await unknown.json()).errors, [{ field: 'colour', message: 'colour: unknown field' }]);
  const badJson = await c.req('/config/models', { method: 'POST', ...opts, headers: { 'content-type': 'application/json' }, body: '{' });
  t.equal(badJson.status, 400);
  t.equal((await c.req('/config/models', { method: 'POST', ...opts, json: [1, 2] })).status, 400);
  const exp = await c.req('/config/exporters', { method: 'POST', ...opts, json: { name: 'M', type: 'mqtt', url: 'http://127.0.0.1', config: { qos: 3 } } });
  t.equal(exp.status, 400);
  t.same((await exp.json()).errors.map((e: { field: string }) => e.field).sort(), ['config.qos', 'url']);
  t.equal((await c.req('/config/cameras?enabled=maybe', opts)).status, 400);
});

t.test('zones, models, sensors, exporters: CRUD with their filters and deep-merge PUT', async (t) => {
  const c = await startTestCloud(t);
  const opts = { token: c.adminToken };
  await c.req('/config/cameras', { method: 'POST', ...opts, json: camera });
  await c.req('/config/cameras', { method: 'POST', ...opts, json: camera });
  await c.req('/config/zones', { method: 'POST', ...opts, json: { name: 'A', camera_id: 'cam-001', geometry: square } });
  await c.req('/config/zones', { method: 'POST', ...opts, json: { name: 'B', camera_id: 'cam-002', geometry: square } });
  const zs = await (await c.req('/config/zones?camera_id=cam-002', opts)).json();
  t.same(zs.items.map((z: { name: string }) => z.name), ['B']);

  const model = { name: 'YOLOv8 Vehicle Detector', type: 'detector', version: '8.0.0', weights_path: '/models/yolov8-vehicle.pt', parameters: { confidence_threshold: 0.5, iou_threshold: 0.45, input_size: 640, framework: 'PyTorch' }, metadata: { description: 'Vehicle detection model' } };
  t.equal((await c.req('/config/models', { method: 'POST', ...opts, json: model })).status, 201);
  t.equal((await c.req('/config/models', { method: 'POST', ...opts, json: { ...model, name: 'OCR', type: 'ocr' } })).status, 201);
  const ocr = await (await c.req('/config/models?type=ocr', opts)).json();
  t.same(ocr.items.map((m: { name: string }) => m.name), ['OCR']);
  const mu = await (await c.req('/config/models/model-001', { method: 'PUT', ...opts, json: { parameters: { confidence_threshold: 0.6 } } })).json();
  t.same(mu.parameters, { ...model.parameters, confidence_threshold: 0.6 }, 'nested fields merged');

  const sensor = { name: 'TPMS', type: 'tpms', camera_id: 'cam-001', config: { sensor_port: 'COM3', baudrate: 115200, threshold: { pressure_min: 1.8, pressure_max: 2.5, temperature_max: 60 } } };
  await c.req('/config/sensors', { method: 'POST', ...opts, json: sensor });
  await c.req('/config/sensors', { method: 'POST', ...opts, json: { name: 'Barrier', type: 'barrier', camera_id: 'cam-002', config: { relay_pin: 17 } } });
  t.same((await (await c.req('/config/sensors?type=tpms', opts)).json()).items.map((s: { name: string }) => s.name), ['TPMS']);
  t.same((await (await c.req('/config/sensors?camera_id=cam-002', opts)).json()).items.map((s: { name: string }) => s.name), ['Barrier']);
  const su = await (await c.req('/config/sensors/sensor-001', { method: 'PUT', ...opts, json: { config: { threshold: { pressure_min: 1.9, pressure_max: 2.4 } } } })).json();
  t.same(su.config.threshold, { pressure_min: 1.9, pressure_max: 2.4, temperature_max: 60 });

  const rest = { name: 'Backend REST Exporter', type: 'rest', url: 'http://127.0.0.1:8000/events/ingest', enabled: true, auth: { type: 'bearer', token: 'your-api-key' }, retry_config: { enabled: true, max_attempts: 5, backoff_strategy: 'exponential', initial_delay_ms: 1000, max_delay_ms: 60000 } };
  t.equal((await c.req('/config/exporters', { method: 'POST', ...opts, json: rest })).status, 201);
  const eu = await (await c.req('/config/exporters/exporter-001', { method: 'PUT', ...opts, json: { enabled: false, retry_config: { max_attempts: 3 } } })).json();
  t.match(eu, { enabled: false, retry_config: { max_attempts: 3, initial_delay_ms: 1000, backoff_strategy: 'exponential' } });
  t.same((await (await c.req('/config/exporters?enabled=false', opts)).json()).total, 1);
  t.equal((await c.req('/config/exporters/exporter-001', { method: 'DELETE', ...opts })).status, 204);
  t.equal((await c.req('/config/exporters/exporter-001', opts)).status, 404);
});

t.test('roles: viewers read (secrets masked), edges read, only admins change', async (t) => {
  const c = await startTestCloud(t);
  const viewer = await c.addUser('viewer1', 'viewer-password', 'viewer');
  await c.req('/config/exporters', { method: 'POST', token: c.adminToken, json: { name: 'E', type: 'rest', url: 'http://127.0.0.1:9/x', auth: { type: 'bearer', token: 'secret-token' } } });
  const v = await (await c.req('/config/exporters/exporter-001', { token: viewer })).json();
  t.equal(v.auth.token, '********', 'secret masked for viewers');
  await c.req('/config/cameras', { method: 'POST', token: c.adminToken, json: camera });
  t.equal((await (await c.req('/config/cameras/cam-001', { token: viewer })).json()).rtsp_url, 'rtsp://***:***@127.0.0.1:8554/stream1', 'camera password masked for viewers');
  t.equal((await (await c.req('/config/cameras/cam-001', { key: c.apiKey })).json()).rtsp_url, camera.rtsp_url, 'the edge gets the real URL');
  t.equal((await (await c.req('/config/cameras/cam-001', { token: c.adminToken })).json()).rtsp_url, camera.rtsp_url);
  const e = await (await c.req('/config/exporters/exporter-001', { key: c.apiKey })).json();
  t.equal(e.auth.token, 'secret-token', 'the edge gets what it needs to deliver');
  const denied = await c.req('/config/cameras', { method: 'POST', token: viewer, json: camera });
  t.equal(denied.status, 403);
  t.equal((await denied.json()).error_code, 'FORBIDDEN');
  t.equal((await c.req('/config/exporters/exporter-001', { method: 'DELETE', token: viewer })).status, 403);
  t.equal((await c.req('/config/cameras', { method: 'POST', key: c.apiKey, json: camera })).status, 401, 'edges cannot change config');
  t.equal((await c.req('/config/cameras')).status, 401);
});

t.test('camera test: ffprobe reports refused and timed-out streams with 503 failed, credentials never echoed', async (t) => {
  const c = await startTestCloud(t);
  const opts = { token: c.adminToken };
  // A port that refuses, and a server that accepts and never answers.
  const closed = createNetServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const closedPort = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  const silent = createNetServer((s) => s.on('error', () => {}));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  t.teardown(() => silent.close());
  const silentPort = (silent.address() as AddressInfo).port;

  await c.req('/config/cameras', { method: 'POST', ...opts, json: { ...camera, rtsp_url: `rtsp://admin:hunter2@127.0.0.1:${closedPort}/s` } });
  await c.req('/config/cameras', { method: 'POST', ...opts, json: { ...camera, rtsp_url: `rtsp://admin:hunter2@127.0.0.1:${silentPort}/s` } });
  const refused = await c.req('/config/cameras/cam-001/test?timeout=3', { method: 'POST', ...opts });
  t.equal(refused.status, 503);
  const rb = await refused.json();
  t.match(rb, { status: 'failed', error: 'Connection failed', message: 'Failed to connect to RTSP stream: Connection failed' });
  t.type(rb.response_time_ms, 'number');
  const slow = await c.req('/config/cameras/cam-002/test?timeout=1', { method: 'POST', ...opts });
  t.equal(slow.status, 503);
  const sb = await slow.json();
  t.equal(sb.error, rb.error, 'a silent port and a closed one read the same (docs/cloud-limits.md)');
  t.ok(sb.response_time_ms >= 900, 'waited for the timeout');
  t.notMatch(JSON.stringify([rb, sb]), /hunter2/);
  t.equal((await c.req('/config/cameras/cam-404/test', { method: 'POST', ...opts })).status, 404);
  t.equal((await c.req('/config/cameras/cam-001/test?timeout=999', { method: 'POST', ...opts })).status, 400);
});

t.test('exporter test: real HTTP and MQTT destinations', async (t) => {
  const c = await startTestCloud(t);
  const opts = { token: c.adminToken };
  const seen: Array<{ auth?: string; body: string }> = [];
  const http = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      seen.push({ auth: req.headers.authorization, body });
      res.statusCode = req.headers.authorization === 'Bearer good' ? 200 : 401;
      res.end();
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  t.teardown(() => http.close());
  const hp = (http.address() as AddressInfo).port;

  const broker = await Aedes.createBroker();
  broker.authenticate = (_client, username, password, done) => done(null, username === 'mqtt_user' && password?.toString() === 'mqtt_password');
  const mqttServer = createNetServer(broker.handle);
  await new Promise<void>((r) => mqttServer.listen(0, '127.0.0.1', r));
  t.teardown(async () => {
    await new Promise<void>((r) => mqttServer.close(() => r()));
    await new Promise<void>((r) => broker.close(() => r()));
  });
  const mp = (mqttServer.address() as AddressInfo).port;

  const mk = async (json: unknown) => (await (await c.req('/config/exporters', { method: 'POST', ...opts, json })).json()).id as string;
  const good = await mk({ name: 'ok', type: 'webhook', url: `http://127.0.0.1:${hp}/hook`, auth: { type: 'bearer', token: 'good' } });
  const wrong = await mk({ name: 'bad', type: 'rest', url: `http://127.0.0.1:${hp}/hook`, auth: { type: 'bearer', token: 'wrong' } });
  const mqttOk = await mk({ name: 'm', type: 'mqtt', url: `mqtt://127.0.0.1:${mp}`, config: { topic: 'anpr/events', qos: 1, username: 'mqtt_user', password: 'mqtt_password' } });
  const mqttBad = await mk({ name: 'm2', type: 'mqtt', url: `mqtt://127.0.0.1:${mp}`, config: { username: 'mqtt_user', password: 'nope' } });

  const test = async (id: string) => {
    const r = await c.req(`/config/exporters/${id}/test?timeout=3`, { method: 'POST', ...opts });
    return { status: r.status, body: await r.json() };
  };
  let r = await test(good);
  t.equal(r.status, 200);
  t.match(r.body, { status: 'success', message: 'Connection test successful', http_status: 200 });
  t.equal(seen.at(-1)?.auth, 'Bearer good');
  t.match(JSON.parse(seen.at(-1)!.body), { type: 'anpr.test' });
  r = await test(wrong);
  t.equal(r.status, 503);
  t.match(r.body, { status: 'failed', http_status: 401, error: 'HTTP 401' });
  r = await test(mqttOk);
  t.equal(r.status, 200, 'MQTT CONNACK accepted');
  r = await test(mqttBad);
  t.equal(r.status, 503, 'MQTT credentials refused');
  await new Promise<void>((res) => http.close(() => res()));
  r = await test(good);
  t.equal(r.status, 503);
  t.equal(r.body.error, 'Connection failed');
});

t.test('camera test: a real RTSP stream is probed and its codec, size and rate reported', async (t) => {
  const { startRtspServer } = await import('../../edge/demo/rtsp-server.js');
  const { execFileSync } = await import('node:child_process');
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'anpr-rtsp-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'clip.mp4');
  execFileSync('ffmpeg', ['-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=15', '-t', '3', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-g', '15', file]);
  let server;
  try {
    server = await startRtspServer({ file });
  } catch (e) {
    t.plan(0, `no GStreamer RTSP server here (${(e as Error).message}); scripts/setup.sh installs it`);
    return;
  }
  t.teardown(() => server!.close());
  const c = await startTestCloud(t);
  const url = server.url.replace('rtsp://', 'rtsp://viewer:s3cret@');
  await c.req('/config/cameras', { method: 'POST', token: c.adminToken, json: { ...camera, rtsp_url: url } });
  const r = await c.req('/config/cameras/cam-001/test?timeout=10', { method: 'POST', token: c.adminToken });
  const b = await r.json();
  t.equal(r.status, 200, JSON.stringify(b));
  t.match(b, { status: 'success', message: 'RTSP stream connection successful', stream_info: { codec: 'H.264', width: 320, height: 240 } });
  t.ok(Math.abs(b.stream_info.fps - 15) < 1, `fps ${b.stream_info.fps}`);
});
