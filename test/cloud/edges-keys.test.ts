import t from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { startTestCloud } from './helpers.js';
import { heartbeatBody, streamClient } from '../fixtures/edge-heartbeat.js';
import { waitFor } from '../fixtures/wait.js';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../../bin/anpr.js', import.meta.url));

t.test('POST /api-keys with edge_id registers the edge; legacy {name}; GET ?edge_id=', async (t) => {
  const c = await startTestCloud(t);
  const post = (json: unknown) => c.req('/api-keys', { method: 'POST', token: c.adminToken, json });
  const r = await post({ edge_id: 'gate-1', name: 'gate one key' });
  t.equal(r.status, 201);
  const k1 = await r.json();
  t.match(k1, { edge_id: 'gate-1', name: 'gate one key', key: /^anpr_/ });
  t.equal((await c.req('/edges/gate-1', { token: c.adminToken })).status, 200, 'the edge exists now');
  t.equal((await c.req('/edges/gate-1/heartbeat', { method: 'POST', key: k1.key, json: heartbeatBody() })).status, 200, 'its key posts its heartbeat');

  const legacy = await post({ name: 'gate-2' });
  t.equal(legacy.status, 201, 'a seed-contract client: the name is the edge id');
  t.match(await legacy.json(), { edge_id: 'gate-2', name: 'gate-2' });
  const bad = await post({ name: 'front gate' });
  t.equal(bad.status, 400, 'a name that cannot be an edge id');
  t.match(await bad.json(), { error_code: 'VALIDATION_ERROR', errors: [{ field: 'edge_id', message: /edge_id is required/ }] });
  t.equal((await post({})).status, 400);
  t.equal((await post({ edge_id: 'bad id!' })).status, 400);
  const second = await post({ edge_id: 'gate-1' });
  t.match(await second.json(), { edge_id: 'gate-1', name: 'gate-1' }, 'a second key for the same edge, named after it');

  const all = await (await c.req('/api-keys', { token: c.adminToken })).json();
  t.same(all.items.map((k: any) => k.edge_id).sort(), ['edge-001', 'gate-1', 'gate-1', 'gate-2']);
  const one = await (await c.req('/api-keys?edge_id=gate-1', { token: c.adminToken })).json();
  t.equal(one.total, 2);
  t.ok(one.items.every((k: any) => k.edge_id === 'gate-1' && !('key' in k)));
  t.equal((await c.req('/api-keys?edge=gate-1', { token: c.adminToken })).status, 400, 'an unknown query parameter');
});

t.test('POST, PUT, DELETE /edges (admin); deleting an edge revokes its keys and closes its stream', async (t) => {
  const c = await startTestCloud(t);
  const viewer = await c.addUser('vic', 'viewer-password-1', 'viewer');
  t.equal((await c.req('/edges', { method: 'POST', token: viewer, json: { id: 'gate-9' } })).status, 403);
  const created = await c.req('/edges', { method: 'POST', token: c.adminToken, json: { id: 'gate-9', name: 'North gate' } });
  t.equal(created.status, 201);
  t.match(await created.json(), { id: 'gate-9', name: 'North gate', status: 'offline', last_seen_at: null });
  t.equal((await c.req('/edges', { method: 'POST', token: c.adminToken, json: { id: 'gate-9' } })).status, 409);
  t.equal((await c.req('/edges', { method: 'POST', token: c.adminToken, json: { id: 'gate 9' } })).status, 400);
  const renamed = await c.req('/edges/gate-9', { method: 'PUT', token: c.adminToken, json: { name: 'North gate (old)' } });
  t.equal(renamed.status, 200);
  t.equal((await renamed.json()).name, 'North gate (old)');
  t.equal((await c.req('/edges/nope', { method: 'PUT', token: c.adminToken, json: { name: 'x' } })).status, 404);

  const key = (await c.ctx.apiKeys.create('gate-9')).key;
  const stream = await streamClient(c.url, `api_key=${key}`);
  const closed = new Promise<number>((r) => stream.ws.once('close', (code) => r(code)));
  t.equal((await c.req('/edges/gate-9/heartbeat', { method: 'POST', key, json: heartbeatBody() })).status, 200);
  t.equal((await c.req('/edges/gate-9', { method: 'DELETE', token: viewer })).status, 403);
  t.equal((await c.req('/edges/gate-9', { method: 'DELETE', token: c.adminToken })).status, 204);
  t.equal(await closed, 4401, 'its open stream closes at once');
  t.equal((await c.req('/edges/gate-9', { token: c.adminToken })).status, 404);
  t.equal((await c.req('/edges/gate-9', { method: 'DELETE', token: c.adminToken })).status, 404);
  t.equal((await c.req('/edges/gate-9/heartbeat', { method: 'POST', key, json: heartbeatBody() })).status, 401);
  t.ok((await c.ctx.apiKeys.list('gate-9')).every((k) => k.revoked_at), 'its keys revoked');
  t.notOk((await (await c.req('/edges', { token: c.adminToken })).json()).items.some((e: any) => e.id === 'gate-9'));
});

t.test('/openapi.json documents the edge routes and the API key edge_id', async (t) => {
  const c = await startTestCloud(t);
  const doc = await (await c.req('/openapi.json')).json();
  for (const [path, method] of [
    ['/edges/{id}/heartbeat', 'post'],
    ['/edges', 'get'],
    ['/edges', 'post'],
    ['/edges/{id}', 'get'],
    ['/edges/{id}', 'put'],
    ['/edges/{id}', 'delete'],
    ['/metrics', 'get'],
  ]) {
    t.ok(doc.paths[path]?.[method], `${method} ${path}`);
  }
  t.ok(doc.paths['/edges/{id}/heartbeat'].post.responses['409'], 'heartbeat documents 409');
  t.ok(doc.components.schemas.EdgeStatus.properties.assigned_cameras);
  t.ok(doc.components.schemas.ApiKey.properties.edge_id);
  t.ok(doc.components.schemas.ApiKeyCreate.properties.edge_id);
});

t.test('anpr apikey create EDGE_ID registers the edge; anpr edges list', async (t) => {
  const c = await startTestCloud(t);
  const created = await run(process.execPath, [bin, 'apikey', 'create', 'gate-1', '--name', 'gate one', '--data-dir', c.dataDir]);
  t.match(created.stdout, /for edge 'gate-1'/);
  const key = created.stdout.trim().split('\n').pop()!;
  const list = JSON.parse((await run(process.execPath, [bin, 'apikey', 'list', '--json', '--data-dir', c.dataDir])).stdout);
  t.match(list.find((k: any) => k.name === 'gate one'), { edge_id: 'gate-1' });
  // The running cloud takes the edge made by another process.
  await waitFor(async () => (await c.req('/edges/gate-1/heartbeat', { method: 'POST', key, json: heartbeatBody() })).status === 200, 'the heartbeat accepted', 10_000, 100);
  t.equal((await (await c.req('/edges/gate-1', { token: c.adminToken })).json()).status, 'online');
  const edges = JSON.parse((await run(process.execPath, [bin, 'edges', 'list', '--json', '--data-dir', c.dataDir])).stdout);
  t.match(edges, [{ id: 'edge-001', active_keys: 1, last_seen_at: null }, { id: 'gate-1', active_keys: 1, version: '1.4.0' }]);
  const text = (await run(process.execPath, [bin, 'edges', 'list', '--data-dir', c.dataDir])).stdout;
  t.match(text, /gate-1 .* keys 1 .* last heard .*1\.4\.0/);
});
