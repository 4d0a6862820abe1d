/**
 * Issue 9, scoped config: an edge's key reads only what its edge runs (lists, totals, items by
 * id), never another edge's credentials; a camera belongs to one edge and is never silently
 * given one when the site has several; the cloud refuses a zone its edges would refuse.
 */
import t, { type Test } from 'tap';
import { startTestCloud, type TestCloud } from './helpers.js';
import { EDGE_LIMITS } from '../../shared/schemas/edge.js';

const square = { type: 'polygon', points: [{ x: 0, y: 0 }, { x: 100, y: 0 }, { x: 100, y: 100 }] };
const camera = (id: string, creds: string, extra: Record<string, unknown> = {}) => ({ id, name: id, rtsp_url: `rtsp://${creds}@127.0.0.1:8554/${id}`, ...extra });

async function post(c: TestCloud, kind: string, body: unknown, status = 201) {
  const r = await c.req(`/config/${kind}`, { method: 'POST', token: c.adminToken, json: body });
  const text = await r.text();
  if (r.status !== status) throw new Error(`POST ${kind}: ${r.status} ${text}`);
  return JSON.parse(text);
}

/** Two edges (edge-001: the helpers' key; edge-002), each with a camera, zone, sensor and exporter. */
async function twoEdgeSite(t: Test) {
  const c = await startTestCloud(t);
  const keyA = c.apiKey;
  const keyB = (await c.ctx.apiKeys.create('edge-002')).key;
  await post(c, 'cameras', camera('cam-a', 'alice:secretA', { edge_id: 'edge-001' }));
  await post(c, 'cameras', camera('cam-b', 'bob:secretB', { edge_id: 'edge-002' }));
  await post(c, 'cameras', camera('cam-none', 'nobody:secretN', { edge_id: null }));
  await post(c, 'zones', { id: 'zone-a', name: 'A', camera_id: 'cam-a', geometry: square });
  await post(c, 'zones', { id: 'zone-b', name: 'B', camera_id: 'cam-b', geometry: square, metadata: { deny: ['SECRETPLATEB'] } });
  await post(c, 'sensors', { id: 'sensor-a', name: 'loop A', type: 'loop', camera_id: 'cam-a' });
  await post(c, 'sensors', { id: 'sensor-bz', name: 'loop B', type: 'loop', zone_id: 'zone-b' });
  await post(c, 'sensors', { id: 'sensor-b', name: 'relay B', type: 'relay', camera_id: 'cam-b' });
  await post(c, 'sensors', { id: 'sensor-free', name: 'site relay', type: 'relay' });
  await post(c, 'models', { id: 'model-1', name: 'ocr', type: 'ocr', weights_path: 'ocr.onnx' });
  const hook = (id: string, token: string, edge_id: string | null) => ({ id, name: id, type: 'webhook', url: `https://hooks.example/${id}`, auth: { type: 'bearer', token }, edge_id });
  await post(c, 'exporters', hook('ex-all', 'tok-all', null));
  await post(c, 'exporters', hook('ex-a', 'tok-a', 'edge-001'));
  await post(c, 'exporters', hook('ex-b', 'tok-b', 'edge-002'));
  return { c, keyA, keyB };
}
/** Everything of edge-002's that edge-001's key must never see. */
const SECRETS_OF_B = ['secretB', 'tok-b', 'cam-b', 'zone-b', 'sensor-b', 'ex-b', 'SECRETPLATEB', 'secretN', 'cam-none'];
const noneOf = (t: Test, text: string, what: string) => {
  for (const s of SECRETS_OF_B) t.notOk(text.includes(s), `${what}: does not contain ${s}`);
};

t.test("an edge's key lists only what its edge runs; totals count only that; nothing of the other edge leaks", async (t) => {
  const { c, keyA } = await twoEdgeSite(t);
  const want: Record<string, string[]> = {
    cameras: ['cam-a'],
    zones: ['zone-a'],
    sensors: ['sensor-a', 'sensor-free'],
    models: ['model-1'],
    exporters: ['ex-all', 'ex-a'],
  };
  for (const [kind, ids] of Object.entries(want)) {
    const r = await c.req(`/config/${kind}`, { key: keyA });
    t.equal(r.status, 200, kind);
    const text = await r.text();
    const page = JSON.parse(text);
    t.same(page.items.map((i: { id: string }) => i.id), ids, `${kind}: only edge-001's`);
    t.same([page.total, page.skip, page.limit], [ids.length, 0, 100], `${kind}: total counts what the edge may see, page shape kept`);
    noneOf(t, text, `${kind} list`);
  }
  // Its own credentials in full: the edge captures and delivers with them.
  const cams = await (await c.req('/config/cameras', { key: keyA })).json();
  t.equal(cams.items[0].rtsp_url, 'rtsp://alice:secretA@127.0.0.1:8554/cam-a');
  const ex = await (await c.req('/config/exporters/ex-a', { key: keyA })).json();
  t.equal(ex.auth.token, 'tok-a');
  // Filters still apply inside the scope; a filter naming the other edge's camera finds nothing.
  t.same((await (await c.req('/config/zones?camera_id=cam-b', { key: keyA })).json()).total, 0);
  t.same((await (await c.req('/config/cameras?edge_id=edge-002', { key: keyA })).json()).total, 0);
  const paged = await (await c.req('/config/sensors?skip=1&limit=1', { key: keyA })).json();
  t.same([paged.total, paged.items.map((i: { id: string }) => i.id)], [2, ['sensor-free']]);
  // An admin sees the whole site.
  const all = await (await c.req('/config/cameras', { token: c.adminToken })).json();
  t.same(all.items.map((i: { id: string }) => i.id), ['cam-a', 'cam-b', 'cam-none']);
  t.same((await (await c.req('/config/cameras?edge_id=edge-002', { token: c.adminToken })).json()).items.map((i: { id: string }) => i.id), ['cam-b']);
});

t.test("an edge's key reading another edge's item by id is refused 403 without its content; unknown ids 404", async (t) => {
  const { c, keyA, keyB } = await twoEdgeSite(t);
  for (const [kind, id] of [
    ['cameras', 'cam-b'],
    ['cameras', 'cam-none'],
    ['zones', 'zone-b'],
    ['sensors', 'sensor-b'],
    ['sensors', 'sensor-bz'],
    ['exporters', 'ex-b'],
  ]) {
    const r = await c.req(`/config/${kind}/${id}`, { key: keyA });
    t.equal(r.status, 403, `${kind}/${id}`);
    const text = await r.text();
    t.equal(JSON.parse(text).error_code, 'FORBIDDEN');
    t.notOk(text.includes('secretB') || text.includes('tok-b') || text.includes('SECRETPLATEB'), `${kind}/${id}: no secret in the refusal`);
  }
  t.equal((await c.req('/config/cameras/cam-nowhere', { key: keyA })).status, 404);
  for (const [kind, id] of [
    ['cameras', 'cam-a'],
    ['zones', 'zone-a'],
    ['sensors', 'sensor-free'],
    ['models', 'model-1'],
    ['exporters', 'ex-all'],
  ]) {
    t.equal((await c.req(`/config/${kind}/${id}`, { key: keyA })).status, 200, `${kind}/${id} is edge-001's`);
  }
  // And the other way round: edge-002 runs the sensor of its zone, not edge-001's camera.
  t.equal((await c.req('/config/sensors/sensor-bz', { key: keyB })).status, 200);
  t.equal((await c.req('/config/cameras/cam-a', { key: keyB })).status, 403);
  // Edges never write config.
  t.equal((await c.req('/config/cameras/cam-a', { method: 'PUT', key: keyA, json: { name: 'x' } })).status, 401);
});

t.test('camera edge_id on create: the only edge, none, or a 400 naming edge_id with several; unknown edges refused', async (t) => {
  const c = await startTestCloud(t); // one edge: edge-001
  const one = await post(c, 'cameras', camera('cam-1', 'u:p'));
  t.equal(one.edge_id, 'edge-001', 'a seed-contract create on a one-edge site goes to that edge');
  t.equal((await post(c, 'cameras', camera('cam-0', 'u:p', { edge_id: null }))).edge_id, null, 'explicit null: captured by no edge');

  const unknown = await c.req('/config/cameras', { method: 'POST', token: c.adminToken, json: camera('cam-x', 'u:p', { edge_id: 'edge-nope' }) });
  t.equal(unknown.status, 400);
  const ub = await unknown.json();
  t.equal(ub.error_code, 'VALIDATION_ERROR');
  t.same(ub.errors.map((e: { field: string }) => e.field), ['edge_id']);
  t.match(ub.errors[0].message, /edge-nope/);

  await c.ctx.apiKeys.create('edge-002');
  const several = await c.req('/config/cameras', { method: 'POST', token: c.adminToken, json: camera('cam-2', 'u:p') });
  t.equal(several.status, 400, 'never a silent guess with two edges');
  const sb = await several.json();
  t.same(sb.errors.map((e: { field: string }) => e.field), ['edge_id']);
  t.match(sb.errors[0].message, /this site has 2 edges: say which edge captures this camera/);
  t.equal((await c.req('/config/cameras/cam-2', { token: c.adminToken })).status, 404, 'nothing stored');
  t.equal((await post(c, 'cameras', camera('cam-2', 'u:p', { edge_id: 'edge-002' }))).edge_id, 'edge-002');

  // PUT may move a camera, with the same checks; a PUT that does not name edge_id keeps it.
  const moved = await c.req('/config/cameras/cam-1', { method: 'PUT', token: c.adminToken, json: { edge_id: 'edge-002' } });
  t.equal(moved.status, 200);
  t.equal((await moved.json()).edge_id, 'edge-002');
  const renamed = await (await c.req('/config/cameras/cam-1', { method: 'PUT', token: c.adminToken, json: { name: 'renamed' } })).json();
  t.equal(renamed.edge_id, 'edge-002');
  const badPut = await c.req('/config/cameras/cam-1', { method: 'PUT', token: c.adminToken, json: { edge_id: 'edge-nope' } });
  t.equal(badPut.status, 400);
  t.same((await badPut.json()).errors.map((e: { field: string }) => e.field), ['edge_id']);
  t.equal((await (await c.req('/config/cameras/cam-1', { token: c.adminToken })).json()).edge_id, 'edge-002', 'refused PUT changed nothing');
  const list = await (await c.req('/config/cameras?edge_id=edge-002', { token: c.adminToken })).json();
  t.same(list.items.map((i: { id: string }) => i.id), ['cam-1', 'cam-2']);
});

t.test('camera create on a site with no edge: edge_id null', async (t) => {
  const c = await startTestCloud(t);
  t.ok(await c.ctx.edges.delete('edge-001'));
  t.equal(await c.ctx.edges.count(), 0);
  t.equal((await post(c, 'cameras', camera('cam-1', 'u:p'))).edge_id, null);
});

t.test('exporter edge_id: null is every edge, a registered edge is that edge, an unknown one is a 400', async (t) => {
  const c = await startTestCloud(t);
  const base = { name: 'hook', type: 'webhook', url: 'https://hooks.example/x' };
  t.equal((await post(c, 'exporters', { ...base, id: 'ex-1' })).edge_id, null);
  t.equal((await post(c, 'exporters', { ...base, id: 'ex-2', edge_id: 'edge-001' })).edge_id, 'edge-001');
  const bad = await c.req('/config/exporters', { method: 'POST', token: c.adminToken, json: { ...base, id: 'ex-3', edge_id: 'edge-nope' } });
  t.equal(bad.status, 400);
  t.same((await bad.json()).errors.map((e: { field: string }) => e.field), ['edge_id']);
  const badPut = await c.req('/config/exporters/ex-1', { method: 'PUT', token: c.adminToken, json: { edge_id: 'edge-nope' } });
  t.equal(badPut.status, 400);
});

t.test("a zone the edge would refuse is refused by the cloud: allow/deny entries of 1-32 characters", async (t) => {
  const c = await startTestCloud(t);
  await post(c, 'cameras', camera('cam-1', 'u:p'));
  const zone = (metadata: unknown) => ({ name: 'Z', camera_id: 'cam-1', geometry: square, metadata });
  const long = await c.req('/config/zones', { method: 'POST', token: c.adminToken, json: zone({ allow: ['AB123', 'X'.repeat(33)] }) });
  t.equal(long.status, 400, 'an allow entry longer than 32 characters');
  const lb = await long.json();
  t.same(lb.errors.map((e: { field: string }) => e.field), ['metadata.allow.1']);
  t.match(lb.errors[0].message, /32/);
  for (const metadata of [{ deny: [''] }, { deny: 'ABC' }, { allow: [7] }]) {
    t.equal((await c.req('/config/zones', { method: 'POST', token: c.adminToken, json: zone(metadata) })).status, 400, JSON.stringify(metadata));
  }
  t.same((await (await c.req('/config/zones', { token: c.adminToken })).json()).total, 0, 'nothing stored');
  const ok = await post(c, 'zones', zone({ allow: ['X'.repeat(32)], deny: ['BAD1'], note: 'free-form kept' }));
  t.same(ok.metadata, { allow: ['X'.repeat(32)], deny: ['BAD1'], note: 'free-form kept' });
  const put = await c.req(`/config/zones/${ok.id}`, { method: 'PUT', token: c.adminToken, json: { metadata: { deny: ['Y'.repeat(40)] } } });
  t.equal(put.status, 400, 'PUT is held to the same schema');
  t.equal((await c.req('/config/zones', { method: 'POST', token: c.adminToken, json: zone({ note: 'x'.repeat(17_000) }) })).status, 400, 'still ≤ 16 KiB');
});

t.test('what the cloud accepts, every edge can run: no edge is given more cameras or exporters than it runs (EDGE_LIMITS)', async (t) => {
  const c = await startTestCloud(t);
  await c.ctx.apiKeys.create('edge-002');
  for (let i = 0; i < EDGE_LIMITS.cameras; i++) await c.ctx.config.create('cameras', { id: `cam-${i}`, name: `c${i}`, rtsp_url: `rtsp://127.0.0.1:8554/${i}`, edge_id: 'edge-001' });
  const r = await c.req('/config/cameras', { method: 'POST', token: c.adminToken, json: camera('cam-extra', 'u:p', { edge_id: 'edge-001' }) });
  t.equal(r.status, 400);
  const body = await r.json();
  t.match(body.errors, [{ field: 'edge_id', message: /edge edge-001 already runs 64 cameras/ }]);
  t.notOk(await c.ctx.config.get('cameras', 'cam-extra'), 'nothing stored');
  await post(c, 'cameras', camera('cam-extra', 'u:p', { edge_id: 'edge-002' }));
  const move = await c.req('/config/cameras/cam-extra', { method: 'PUT', token: c.adminToken, json: { edge_id: 'edge-001' } });
  t.equal(move.status, 400, 'nor moved onto a full edge');
  t.equal((await c.req('/config/cameras/cam-0', { method: 'PUT', token: c.adminToken, json: { name: 'renamed' } })).status, 200, 'a change to one of the 64 is not counted twice');

  for (let i = 0; i < EDGE_LIMITS.exporters - 1; i++) await post(c, 'exporters', { id: `ex-${i}`, name: `ex-${i}`, type: 'webhook', url: `https://127.0.0.1:9/${i}`, edge_id: null });
  await post(c, 'exporters', { id: 'ex-b', name: 'ex-b', type: 'webhook', url: 'https://127.0.0.1:9/b', edge_id: 'edge-002' });
  await post(c, 'exporters', { id: 'ex-a', name: 'ex-a', type: 'webhook', url: 'https://127.0.0.1:9/a', edge_id: 'edge-001' });
  const all = await c.req('/config/exporters', { method: 'POST', token: c.adminToken, json: { name: 'one more for all', type: 'webhook', url: 'https://127.0.0.1:9/x' } });
  t.equal(all.status, 400, 'an exporter for every edge is refused when one edge is full');
  t.match((await all.json()).errors, [{ field: 'edge_id', message: /already runs 16 exporters/ }]);
});
