/** Bad input to POST /edges/{id}/heartbeat: a clear 4xx, nothing stored, the cloud keeps answering. */
import t from 'tap';
import { startTestCloud, type TestCloud } from './helpers.js';
import { heartbeatBody, INSTANCE_A, INSTANCE_B } from '../fixtures/edge-heartbeat.js';
import { MAX_CLOCK_SKEW_S } from '../../shared/schemas/edge.js';

async function setup(t: Parameters<typeof startTestCloud>[0]) {
  const c = await startTestCloud(t);
  const keyA = (await c.ctx.apiKeys.create('gate-1')).key;
  const keyB = (await c.ctx.apiKeys.create('gate-2')).key;
  t.equal((await beat(c, keyA, heartbeatBody({ uptime_s: 100 }))).status, 200, 'first box heard');
  return { c, keyA, keyB };
}

const beat = (c: TestCloud, key: string | undefined, body: unknown, edge = 'gate-1', token?: string) =>
  c.req(`/edges/${edge}/heartbeat`, { method: 'POST', key, token, json: body });
const stored = async (c: TestCloud, id = 'gate-1') => {
  const r = await c.req(`/edges/${id}`, { token: c.adminToken });
  return r.status === 200 ? r.json() : r.status;
};
const row = async (c: TestCloud, id = 'gate-1') => {
  const r = await c.ctx.edges.get(id);
  return r && { instance_id: r.instance_id, last_seen_at: r.last_seen_at, heartbeat: r.heartbeat };
};

/** Runs `refuse`, then checks status and error code, and that neither the edge's status nor its row changed. */
async function refused(t: Parameters<typeof startTestCloud>[0], c: TestCloud, what: string, refuse: () => Promise<Response>, status: number, code: string, detail?: RegExp) {
  const before = await stored(c);
  const rowBefore = await row(c);
  const r = await refuse();
  t.equal(r.status, status, what);
  const body = (await r.json()) as { error_code: string; detail: string };
  t.equal(body.error_code, code, `${what}: ${body.detail}`);
  if (detail) t.match(body.detail, detail, what);
  t.same(await stored(c), before, `${what}: GET /edges/gate-1 unchanged`);
  t.same(await row(c), rowBefore, `${what}: nothing written`);
  t.equal((await c.req('/healthz')).status, 200, `${what}: the cloud keeps answering`);
}

t.test('refusals: clock skew, malformed, invalid, too large', async (t) => {
  const { c, keyA } = await setup(t);
  const skewed = new Date(Date.now() + (MAX_CLOCK_SKEW_S + 60) * 1000).toISOString();
  await refused(t, c, 'clock ahead', () => beat(c, keyA, heartbeatBody({ sent_at: skewed, uptime_s: 1 })), 400, 'CLOCK_SKEW', /clock is 3\d\d s ahead of the cloud's .*NTP/);
  const behind = new Date(Date.now() - 3600_000).toISOString();
  await refused(t, c, 'clock behind', () => beat(c, keyA, heartbeatBody({ sent_at: behind, uptime_s: 1 })), 400, 'CLOCK_SKEW', /3600 s behind/);
  await refused(t, c, 'malformed JSON', () => c.req('/edges/gate-1/heartbeat', { method: 'POST', key: keyA, headers: { 'content-type': 'application/json' }, body: '{"instance_id": ' }), 400, 'INVALID_REQUEST');
  await refused(t, c, 'not a heartbeat', () => beat(c, keyA, { ...heartbeatBody(), cameras: 'many', extra: 1 }), 400, 'VALIDATION_ERROR');
  await refused(t, c, 'control characters', () => beat(c, keyA, heartbeatBody({ version: '1.0\u0000' })), 400, 'VALIDATION_ERROR');
  const big = { ...heartbeatBody(), problems: ['x'.repeat(10 * 1024 * 1024)] };
  await refused(t, c, '10 MB body', () => beat(c, keyA, big), 413, 'PAYLOAD_TOO_LARGE');
  // Still accepted afterwards.
  t.equal((await beat(c, keyA, heartbeatBody())).status, 200);
});

t.test('a second box with the same edge id is refused while the first is online; the first keeps being accepted', async (t) => {
  const { c, keyA } = await setup(t);
  await refused(
    t,
    c,
    'second installation',
    () => beat(c, keyA, heartbeatBody({ instance_id: INSTANCE_B, uptime_s: 5 })),
    409,
    'EDGE_ID_IN_USE',
    new RegExp(`Edge id 'gate-1' is in use by another box \\(installation ${INSTANCE_A}.*its own edge id and API key`),
  );
  const first = await beat(c, keyA, heartbeatBody({ uptime_s: 105 }));
  t.equal(first.status, 200, 'the first box keeps being accepted');
  t.equal((await c.req('/edges/gate-1', { token: c.adminToken }).then((r) => r.json())).uptime_s, 105, 'its heartbeat is the one kept');
  t.equal(c.ctx.edgeHealth.instanceConflict('gate-1', INSTANCE_B)?.includes('gate-1'), true, 'instanceConflict answers for config and ingest');
  t.equal(c.ctx.edgeHealth.instanceConflict('gate-1', INSTANCE_A), null);
  t.equal(c.ctx.edgeHealth.instanceConflict('gate-1', undefined), null, 'an edge that sends no instance id is not judged');
  t.equal((await c.ctx.edges.get('gate-1'))?.instance_id, INSTANCE_A);
});

t.test('a replaced box takes over once the old one is offline', async (t) => {
  const c = await startTestCloud(t);
  const key = (await c.ctx.apiKeys.create('gate-1')).key;
  t.equal((await beat(c, key, heartbeatBody({ interval_s: 1 }))).status, 200);
  t.equal((await beat(c, key, heartbeatBody({ instance_id: INSTANCE_B }))).status, 409);
  // Offline after 3 s of silence (the route answers the same status as the timer).
  const { waitFor } = await import('../fixtures/wait.js');
  await waitFor(async () => (await stored(c)).status === 'offline', 'the old box offline', 10_000, 100);
  const r = await beat(c, key, heartbeatBody({ instance_id: INSTANCE_B }));
  t.equal(r.status, 200);
  t.equal((await r.json()).status, 'online');
  t.equal((await c.ctx.edges.get('gate-1'))?.instance_id, INSTANCE_B);
});

t.test("another edge's key, a user, unknown edge ids, a deleted edge's key", async (t) => {
  const { c, keyA, keyB } = await setup(t);
  await refused(t, c, "key of gate-2 on gate-1", () => beat(c, keyB, heartbeatBody({ uptime_s: 1 })), 403, 'FORBIDDEN', /belongs to edge 'gate-2'/);
  await refused(t, c, 'admin JWT on a known edge', () => beat(c, undefined, heartbeatBody({ uptime_s: 1 }), 'gate-1', c.adminToken), 403, 'FORBIDDEN');
  await refused(t, c, 'admin JWT on an unknown edge', () => beat(c, undefined, heartbeatBody(), 'gate-404', c.adminToken), 404, 'RESOURCE_NOT_FOUND');
  await refused(t, c, 'a key on an unknown edge id', () => beat(c, keyA, heartbeatBody(), 'gate-404'), 403, 'FORBIDDEN');
  await refused(t, c, 'an edge id that is no id', () => beat(c, keyA, heartbeatBody(), 'bad%20id'), 400, 'VALIDATION_ERROR');
  await refused(t, c, 'no credentials', () => beat(c, undefined, heartbeatBody()), 401, 'AUTHENTICATION_FAILED');
  t.same(await stored(c, 'gate-404'), 404, 'no edge created');

  // gate-2 deleted: its key stops at once (revoked in the same transaction, cache cleared).
  t.equal((await c.req('/edges/gate-2', { method: 'DELETE', token: c.adminToken })).status, 204);
  const r = await beat(c, keyB, heartbeatBody(), 'gate-2');
  t.equal(r.status, 401);
  t.equal(((await r.json()) as { error_code: string }).error_code, 'AUTHENTICATION_FAILED');
  t.same(await stored(c, 'gate-2'), 404, 'nothing stored for the deleted edge');
  t.equal(await c.ctx.edges.get('gate-2'), undefined);
  // Deleted by another process (anpr): the key may still be cached here; the route refuses anyway.
  const keyC = (await c.ctx.apiKeys.create('gate-3')).key;
  t.equal((await beat(c, keyC, heartbeatBody(), 'gate-3')).status, 200, 'key cached by an accepted heartbeat');
  await c.ctx.edges.delete('gate-3');
  const gone = await beat(c, keyC, heartbeatBody(), 'gate-3');
  t.equal(gone.status, 401);
  t.match(((await gone.json()) as { detail: string }).detail, /no longer registered/);
  t.equal((await c.req('/healthz')).status, 200);
});
