/**
 * Issue 9, versioned config: `GET /edges/{id}/config` serves what one edge runs with an ETag;
 * `If-None-Match` answers 304; the version changes exactly when that edge's config changes.
 */
import t from 'tap';
import { EdgeConfigBundle } from '../../shared/schemas/edge.js';
import { edgeConfigVersion } from '../../cloud/edges/edge-config.js';
import { ifNoneMatchHits } from '../../cloud/routes/edge-config.js';
import { startTestCloud, type TestCloud } from './helpers.js';

const square = { type: 'polygon', points: [{ x: 0, y: 0 }, { x: 100, y: 0 }, { x: 100, y: 100 }] };

async function admin(c: TestCloud, method: string, path: string, json?: unknown) {
  const r = await c.req(path, { method, token: c.adminToken, json });
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
  return r;
}

async function site(t: Parameters<typeof startTestCloud>[0]) {
  const c = await startTestCloud(t);
  const keyA = c.apiKey; // edge-001
  const keyB = (await c.ctx.apiKeys.create('edge-002')).key;
  await admin(c, 'POST', '/config/cameras', { id: 'cam-a', name: 'A', rtsp_url: 'rtsp://alice:secretA@127.0.0.1/a', edge_id: 'edge-001' });
  await admin(c, 'POST', '/config/cameras', { id: 'cam-b', name: 'B', rtsp_url: 'rtsp://bob:secretB@127.0.0.1/b', edge_id: 'edge-002' });
  await admin(c, 'POST', '/config/zones', { id: 'zone-a', name: 'A', camera_id: 'cam-a', geometry: square, metadata: { allow: ['ABC123'] } });
  await admin(c, 'POST', '/config/zones', { id: 'zone-b', name: 'B', camera_id: 'cam-b', geometry: square });
  await admin(c, 'POST', '/config/sensors', { id: 'sensor-free', name: 'relay', type: 'relay' });
  await admin(c, 'POST', '/config/models', { id: 'model-1', name: 'ocr', type: 'ocr', weights_path: 'ocr.onnx' });
  const hook = (id: string, token: string, edge_id: string | null) => ({ id, name: id, type: 'webhook', url: `https://hooks.example/${id}`, auth: { type: 'bearer', token }, edge_id });
  await admin(c, 'POST', '/config/exporters', hook('ex-a', 'tok-a', 'edge-001'));
  await admin(c, 'POST', '/config/exporters', hook('ex-b', 'tok-b', 'edge-002'));
  return { c, keyA, keyB };
}

const ids = (items: Array<Record<string, unknown>>) => items.map((i) => i.id);

t.test("the bundle: the edge's own items with credentials in full, to its own key or an admin only", async (t) => {
  const { c, keyA, keyB } = await site(t);
  const r = await c.req('/edges/edge-001/config', { key: keyA });
  t.equal(r.status, 200);
  const b = EdgeConfigBundle.parse(await r.json());
  t.equal(r.headers.get('etag'), `"${b.version}"`);
  t.match(b.version, /^[0-9a-f]{16}$/);
  t.equal(b.edge_id, 'edge-001');
  t.same([ids(b.cameras), ids(b.zones), ids(b.sensors), ids(b.models), ids(b.exporters)], [['cam-a'], ['zone-a'], ['sensor-free'], ['model-1'], ['ex-a']]);
  t.equal(b.cameras[0]!.rtsp_url, 'rtsp://alice:secretA@127.0.0.1/a', 'credentials in full: the edge captures with them');
  t.same(b.exporters[0]!.auth, { type: 'bearer', token: 'tok-a' });
  t.equal(await edgeConfigVersion(c.ctx, 'edge-001'), b.version, 'edgeConfigVersion is the served version');
  // The bundle and the scoped lists agree.
  for (const kind of ['cameras', 'zones', 'sensors', 'models', 'exporters'] as const) {
    const page = await (await c.req(`/config/${kind}`, { key: keyA })).json();
    t.same(page.items, b[kind], `${kind}: the bundle is what the key lists`);
  }

  const other = await c.req('/edges/edge-002/config', { key: keyA });
  t.equal(other.status, 403, "another edge's bundle");
  const otherText = await other.text();
  for (const s of ['secretB', 'tok-b', 'cam-b']) t.notOk(otherText.includes(s), `refusal does not contain ${s}`);
  t.equal(other.headers.get('etag'), null, 'not even the version');
  t.equal((await c.req('/edges/edge-001/config')).status, 401);
  t.equal((await c.req('/edges/edge-001/config', { key: 'anpr_not_a_key' })).status, 401);
  const viewer = await c.addUser('viewer1', 'viewer-password-1', 'viewer');
  t.equal((await c.req('/edges/edge-001/config', { token: viewer })).status, 403, 'below admin: the bundle holds credentials');
  const operator = await c.addUser('operator1', 'operator-password-1', 'operator');
  t.equal((await c.req('/edges/edge-001/config', { token: operator })).status, 403);
  const asAdmin = await c.req('/edges/edge-002/config', { token: c.adminToken });
  t.equal(asAdmin.status, 200, 'an admin reads any edge');
  t.same(ids((await asAdmin.json()).cameras), ['cam-b']);
  t.equal((await c.req('/edges/edge-nope/config', { token: c.adminToken })).status, 404);
  t.equal((await c.req('/edges/edge-002/config', { key: keyB })).status, 200);
  // A deleted edge's key is revoked.
  await c.ctx.edges.delete('edge-002');
  t.equal((await c.req('/edges/edge-002/config', { key: keyB })).status, 401);
});

t.test('If-None-Match: the current tag (strong, weak, in a list, or *) is a 304 without a body', async (t) => {
  const { c, keyA } = await site(t);
  const first = await c.req('/edges/edge-001/config', { key: keyA });
  const etag = first.headers.get('etag')!;
  await first.arrayBuffer();
  for (const inm of [etag, `W/${etag}`, `"0000000000000000", ${etag}`, '*']) {
    const r = await c.req('/edges/edge-001/config', { key: keyA, headers: { 'if-none-match': inm } });
    t.equal(r.status, 304, inm);
    t.equal(r.headers.get('etag'), etag);
    t.equal((await r.arrayBuffer()).byteLength, 0, 'no body');
  }
  const stale = await c.req('/edges/edge-001/config', { key: keyA, headers: { 'if-none-match': '"0000000000000000"' } });
  t.equal(stale.status, 200);
  t.equal((await stale.json()).version, etag.slice(1, -1));
  // A 304 is no way round the scope: another edge's tag still gets 403.
  t.equal((await c.req('/edges/edge-002/config', { key: keyA, headers: { 'if-none-match': '*' } })).status, 403);
  t.notOk(ifNoneMatchHits(undefined, etag));
  t.notOk(ifNoneMatchHits(`"${etag.slice(2)}`, etag));
});

t.test("the version changes exactly when that edge's config changes", async (t) => {
  const { c } = await site(t);
  const v = async () => ({ a: await edgeConfigVersion(c.ctx, 'edge-001'), b: await edgeConfigVersion(c.ctx, 'edge-002') });
  let before = await v();
  const step = async (what: string, change: () => Promise<unknown>, changes: { a: boolean; b: boolean }) => {
    await change();
    const after = await v();
    t.equal(after.a !== before.a, changes.a, `${what}: edge-001's version ${changes.a ? 'changes' : 'unchanged'}`);
    t.equal(after.b !== before.b, changes.b, `${what}: edge-002's version ${changes.b ? 'changes' : 'unchanged'}`);
    before = after;
  };
  await step("another edge's camera renamed", () => admin(c, 'PUT', '/config/cameras/cam-b', { name: 'B2' }), { a: false, b: true });
  await step("another edge's zone added", () => admin(c, 'POST', '/config/zones', { id: 'zone-b2', name: 'B2', camera_id: 'cam-b', geometry: square }), { a: false, b: true });
  await step("another edge's exporter deleted", () => admin(c, 'DELETE', '/config/exporters/ex-b'), { a: false, b: true });
  await step('own camera saved unchanged (only updated_at moves)', () => admin(c, 'PUT', '/config/cameras/cam-a', { name: 'A' }), { a: false, b: false });
  await step('own zone changed', () => admin(c, 'PUT', '/config/zones/zone-a', { metadata: { allow: ['ABC123', 'XYZ9'] } }), { a: true, b: false });
  await step('a model added (every edge runs it)', () => admin(c, 'POST', '/config/models', { id: 'model-2', name: 'det', type: 'detector', weights_path: 'd.onnx' }), { a: true, b: true });
  await step('an exporter for every edge', () => admin(c, 'POST', '/config/exporters', { id: 'ex-all', name: 'all', type: 'webhook', url: 'https://hooks.example/all' }), { a: true, b: true });
  await step('a camera moved from edge-002 to edge-001', () => admin(c, 'PUT', '/config/cameras/cam-b', { edge_id: 'edge-001' }), { a: true, b: true });
  await step('a camera with no edge', () => admin(c, 'POST', '/config/cameras', { id: 'cam-n', name: 'N', rtsp_url: 'rtsp://127.0.0.1/n', edge_id: null }), { a: false, b: false });
  // Served over HTTP, the same version as the function says.
  const r = await c.req('/edges/edge-001/config', { key: c.apiKey });
  t.equal(r.headers.get('etag'), `"${before.a}"`);
  t.same(ids((await r.json()).cameras), ['cam-a', 'cam-b']);
});

t.test('the route, camera edge_id and zone plate lists are in /openapi.json', async (t) => {
  const c = await startTestCloud(t);
  const api = await (await c.req('/openapi.json')).json();
  const route = api.paths['/edges/{id}/config'].get;
  t.same(Object.keys(route.responses).sort(), ['200', '401', '403', '404', '409', '429']);
  t.same(route.security, [{ apiKey: [] }, { jwt: [] }]);
  t.ok(api.components.schemas.EdgeConfigBundle);
  t.ok(api.components.schemas.CameraCreate.properties.edge_id);
  t.ok(api.paths['/config/cameras'].get.parameters.some((p: { name: string }) => p.name === 'edge_id'));
  const zoneMeta = JSON.stringify(api.components.schemas.ZoneCreate.properties.metadata);
  t.match(zoneMeta, /"maxLength":32/);
});
