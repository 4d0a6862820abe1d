import t, { type Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestCloud, type TestCloud } from './helpers.js';
import { heartbeatBody } from '../fixtures/edge-heartbeat.js';

const camera = (id: string, edge_id: string, enabled = true) => ({
  id,
  name: `Camera ${id}`,
  rtsp_url: 'rtsp://127.0.0.1:8554/stream1',
  enabled,
  edge_id,
  fps: 10,
  resolution: { width: 1920, height: 1080 },
  detection_model: 'yolov8-vehicle',
  ocr_models: ['paddle-ocr-lt'],
  metadata: {},
});

async function setup(t: Test, dataDir?: string) {
  const c = await startTestCloud(t, {}, dataDir);
  const keyA = (await c.ctx.apiKeys.create('gate-1')).key;
  const keyB = (await c.ctx.apiKeys.create('gate-2')).key;
  for (const cam of [camera('cam-1', 'gate-1'), camera('cam-2', 'gate-1'), camera('cam-3', 'gate-2')]) {
    const r = await c.req('/config/cameras', { method: 'POST', token: c.adminToken, json: cam });
    if (r.status !== 201) throw new Error(`camera create: ${r.status} ${await r.text()}`);
  }
  return { c, keyA, keyB };
}

const beat = (c: TestCloud, key: string, body: unknown, edge = 'gate-1') => c.req(`/edges/${edge}/heartbeat`, { method: 'POST', key, json: body });
const edge = async (c: TestCloud, id: string, auth: { token?: string; key?: string }) => (await c.req(`/edges/${id}`, auth)).json() as Promise<any>;

t.test('an accepted heartbeat: the edge is online with its cameras, outbox and config; who may read it', async (t) => {
  const { c, keyA, keyB } = await setup(t);
  const before = await edge(c, 'gate-1', { token: c.adminToken });
  t.match(before, { id: 'gate-1', status: 'offline', last_seen_at: null, version: null, cameras: [], assigned_cameras: ['cam-1', 'cam-2'] }, 'never heard: offline');

  const r = await beat(c, keyA, heartbeatBody());
  t.equal(r.status, 200, await r.clone().text());
  const answered = await r.json();
  t.equal(answered.status, 'online');

  const viewer = await c.addUser('vic', 'viewer-password-1', 'viewer');
  const got = await edge(c, 'gate-1', { token: viewer });
  t.match(got, {
    id: 'gate-1',
    name: 'gate-1',
    status: 'online',
    version: '1.4.0',
    uptime_s: 3600,
    interval_s: 5,
    problems: [],
    cameras: [{ id: 'cam-1', state: 'running', fps: 9.8 }, { id: 'cam-2', state: 'running', fps: 10 }],
    outbox: { pending: 3, dead_letters: 1, exporters: [{ id: 'cloud', pending: 2 }, { id: 'exp-mqtt', dead_letters: 1 }] },
    config: { version: 'abcdef0123456789', error: null, problems: [] },
    assigned_cameras: ['cam-1', 'cam-2'],
  });
  t.match(got.config.current_version, /^[0-9a-f]{16}$/);
  t.ok(Math.abs(Date.parse(got.last_seen_at) - Date.now()) < 10_000, 'last_seen_at is the cloud clock');
  t.ok(Math.abs(got.clock_skew_s) < 5);

  const list = await (await c.req('/edges', { token: viewer })).json();
  t.same(list.items.map((e: any) => [e.id, e.status]), [['edge-001', 'offline'], ['gate-1', 'online'], ['gate-2', 'offline']]);
  t.equal(list.total, 3);

  t.equal((await c.req('/edges/gate-1', { key: keyA })).status, 200, 'an edge reads its own status');
  t.equal((await c.req('/edges/gate-1', { key: keyB })).status, 403, "not another edge's");
  t.equal((await c.req('/edges', { key: keyA })).status, 403, 'nor the list');
  t.equal((await c.req('/edges')).status, 401);
  t.equal((await c.req('/edges/nope', { token: viewer })).status, 404);
});

t.test('degraded: the edge says so, an assigned camera is not running or not reported, config error or problems', async (t) => {
  const { c, keyA } = await setup(t);
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['edge health', { health: 'degraded', problems: ['disk almost full'] }, /disk almost full/],
    ['camera reconnecting', { cameras: [{ id: 'cam-1', state: 'running', fps: 10 }, { id: 'cam-2', state: 'reconnecting', fps: 0, error: 'connection refused' }] }, /camera cam-2: reconnecting \(connection refused\)/],
    ['camera not reported', { cameras: [{ id: 'cam-1', state: 'running', fps: 10 }] }, /camera cam-2: assigned but not reported/],
    ['config error', { config: { version: null, applied_at: null, error: 'cloud unreachable', problems: [] } }, /config: cloud unreachable/],
    [
      'config problem',
      { config: { version: 'v1', applied_at: null, error: null, problems: [{ kind: 'zones', id: 'zone-9', dropped: 'item', errors: ['allow entry too long'] }] } },
      /zones zone-9: not run \(allow entry too long\)/,
    ],
  ];
  for (const [what, over, problem] of cases) {
    const r = await beat(c, keyA, heartbeatBody(over as never));
    t.equal(r.status, 200, what);
    const got = await edge(c, 'gate-1', { token: c.adminToken });
    t.equal(got.status, 'degraded', what);
    t.match(got.problems.join('\n'), problem, what);
    // Healthy again.
    await beat(c, keyA, heartbeatBody());
    t.equal((await edge(c, 'gate-1', { token: c.adminToken })).status, 'online', `${what}: online again`);
  }
  // A disabled camera need not run; a camera of another edge is not this edge's business.
  await c.req('/config/cameras/cam-2', { method: 'PUT', token: c.adminToken, json: { enabled: false } });
  t.equal((await (await beat(c, keyA, heartbeatBody({ cameras: [{ id: 'cam-1', state: 'running', fps: 10 }] }))).json()).status, 'online', 'disabled camera not required');
});

t.test('the last heartbeat survives a restart of the cloud', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'anpr-edges-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const first = await setup(t, dir);
  // Two heartbeats: the second changes nothing, so it is held in memory (throttled), and written at stop.
  await beat(first.c, first.keyA, heartbeatBody({ uptime_s: 10 }));
  await beat(first.c, first.keyA, heartbeatBody({ uptime_s: 15 }));
  await first.c.close();
  const c = await startTestCloud(t, {}, dir);
  const got = await edge(c, 'gate-1', { token: c.adminToken });
  t.match(got, { status: 'online', version: '1.4.0', uptime_s: 15, cameras: [{ id: 'cam-1' }, { id: 'cam-2' }] });
});

t.test('the answer to a heartbeat is small and names the config version the cloud serves now; it moves when that edge\'s config changes', async (t) => {
  const { c, keyA } = await setup(t);
  const running = [{ id: 'cam-1', state: 'running' as const, fps: 10 }, { id: 'cam-2', state: 'running' as const, fps: 10 }];
  const ack = async () => (await beat(c, keyA, heartbeatBody({ cameras: running }))).json() as Promise<any>;
  const etag = async () => (await c.req('/edges/gate-1/config', { key: keyA })).headers.get('etag');
  const first = await ack();
  t.same(Object.keys(first).sort(), ['config', 'id', 'last_seen_at', 'problems', 'status']);
  t.equal(first.status, 'online');
  t.equal(`"${first.config.current_version}"`, await etag(), 'the version GET /edges/{id}/config serves');
  t.equal((await c.req('/config/cameras/cam-3', { method: 'PUT', token: c.adminToken, json: { name: 'other edge' } })).status, 200);
  t.equal((await ack()).config.current_version, first.config.current_version, "another edge's change: same version");
  t.equal((await c.req('/config/cameras/cam-1', { method: 'PUT', token: c.adminToken, json: { fps: 5 } })).status, 200);
  const after = await ack();
  t.not(after.config.current_version, first.config.current_version, "its own camera changed: a new version");
  t.equal(`"${after.config.current_version}"`, await etag());
});
