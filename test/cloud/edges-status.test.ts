import t from 'tap';
import { startTestCloud, ADMIN_PASSWORD, type TestCloud } from './helpers.js';
import { heartbeatBody, streamClient } from '../fixtures/edge-heartbeat.js';
import { sleep } from '../fixtures/wait.js';
import { OFFLINE_AFTER_INTERVALS } from '../../shared/schemas/edge.js';

const beat = (c: TestCloud, key: string, over = {}, edge = 'gate-1') => c.req(`/edges/${edge}/heartbeat`, { method: 'POST', key, json: heartbeatBody({ interval_s: 1, cameras: [], ...over }) });

/** The value of one series in the Prometheus text, or undefined. */
function series(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

t.test('unheard for 3 intervals: offline, announced once on the stream and counted; the next heartbeat brings it back online', async (t) => {
  const c = await startTestCloud(t);
  const keyA = (await c.ctx.apiKeys.create('gate-1')).key;
  const keyB = (await c.ctx.apiKeys.create('gate-2')).key;
  const admin = await streamClient(c.url, `token=${c.adminToken}`);
  const ownEdge = await streamClient(c.url, `api_key=${keyA}`);
  const otherEdge = await streamClient(c.url, `api_key=${keyB}`);
  t.teardown(() => [admin, ownEdge, otherEdge].forEach((s) => s.ws.close()));

  // Taken before the heartbeat is sent: the cloud hears it later, so silence is measured from no later than that.
  const lastBeat = Date.now();
  t.equal((await beat(c, keyA)).status, 200);
  const [online] = await admin.next('edge_status', 1);
  t.match(online.data, { id: 'gate-1', status: 'online', previous: 'offline', problems: [] });

  const offline = (await admin.next('edge_status', 2))[1];
  const silentMs = Date.now() - lastBeat;
  t.match(offline.data, { id: 'gate-1', status: 'offline', previous: 'online', problems: [/no heartbeat since .* \(3 intervals of 1 s\)/] });
  t.ok(silentMs >= OFFLINE_AFTER_INTERVALS * 1000 - 50, `not before 3 intervals (${silentMs} ms)`);
  t.ok(silentMs < OFFLINE_AFTER_INTERVALS * 1000 + 1500, `soon after 3 intervals (${silentMs} ms)`);
  t.equal((await (await c.req('/edges/gate-1', { token: c.adminToken })).json()).status, 'offline');

  // The timer keeps running (every 250 ms): a second announcement would come within this window.
  await sleep(1500);
  t.equal(admin.of('edge_status').length, 2, 'offline announced exactly once');

  t.equal((await beat(c, keyA)).status, 200);
  const back = (await admin.next('edge_status', 3))[2];
  t.match(back.data, { id: 'gate-1', status: 'online', previous: 'offline' });
  t.equal((await (await c.req('/edges/gate-1', { token: c.adminToken })).json()).status, 'online');

  // The edge's own key hears its own status; another edge's key hears nothing of it.
  t.same((await ownEdge.next('edge_status', 3)).map((m) => m.data.status), ['online', 'offline', 'online']);
  t.equal(otherEdge.of('edge_status').length, 0, "another edge's stream does not get it");

  const r = await c.req('/metrics', { token: c.adminToken });
  t.equal(r.status, 200);
  t.match(r.headers.get('content-type'), /text\/plain/);
  const text = await r.text();
  t.equal(series(text, 'anpr_edge_status_changes_total', 'status="online"'), 2);
  t.equal(series(text, 'anpr_edge_status_changes_total', 'status="offline"'), 1);
  t.equal(series(text, 'anpr_edge_heartbeats_total', 'result="accepted"'), 2);
  t.equal(series(text, 'anpr_edges', 'status="online"'), 1);
  t.equal(series(text, 'anpr_edges', 'status="offline"'), 2, 'gate-2 and edge-001, never heard');
  t.match(text, /anpr_cloud_process_cpu_seconds_total/, 'process metrics, prefixed');
});

t.test('/metrics: admin JWT or the metrics token; each cloud counts only its own', async (t) => {
  const token = 'metrics-token-0123456789';
  const c = await startTestCloud(t, { env: { ANPR_ADMIN_PASSWORD: ADMIN_PASSWORD, ANPR_METRICS_TOKEN: token } });
  const other = await startTestCloud(t);
  const keyA = (await c.ctx.apiKeys.create('gate-1')).key;
  t.equal((await c.req('/edges/gate-1/heartbeat', { method: 'POST', key: keyA, json: heartbeatBody() })).status, 200);
  t.equal((await c.req('/edges/gate-1/heartbeat', { method: 'POST', key: keyA, json: { ...heartbeatBody(), sent_at: '2001-01-01T00:00:00Z' } })).status, 400);

  t.equal((await c.req('/metrics')).status, 401);
  t.equal((await c.req('/metrics', { key: keyA })).status, 401, 'an edge key is no metrics credential');
  const viewer = await c.addUser('vic', 'viewer-password-1', 'viewer');
  t.equal((await c.req('/metrics', { token: viewer })).status, 403);
  t.equal((await c.req('/metrics', { token: 'metrics-token-wrong' })).status, 401);
  const text = await (await c.req('/metrics', { token })).text();
  t.equal(series(text, 'anpr_edge_heartbeats_total', 'result="accepted"'), 1);
  t.equal(series(text, 'anpr_edge_heartbeats_total', 'result="clock_skew"'), 1);
  const otherText = await (await other.req('/metrics', { token: other.adminToken })).text();
  t.equal(series(otherText, 'anpr_edge_heartbeats_total', 'result="accepted"'), 0, 'another cloud in the same process counts apart');
  t.equal((await other.req('/metrics', { token })).status, 401, 'no metrics token set there');
});
