/**
 * Issue 10, lists and the edges: the config bundle names the lists an edge applies (every
 * edge's and its own, enabled or not) with their versions; the bundle's version, and the one
 * the heartbeat answers, move when such a list or its entries change, and not for another edge's
 * list; the heartbeat's `lists` is kept in the edge's status and tells which edges are current.
 */
import t, { type Test } from 'tap';
import { createHash } from 'node:crypto';
import { EdgeConfigBundle } from '../../shared/schemas/edge.js';
import { canonicalJson } from '../../cloud/edges/edge-config.js';
import { startTestCloud, type TestCloud } from './helpers.js';
import { heartbeatBody } from '../fixtures/edge-heartbeat.js';

async function site(t: Test) {
  const c = await startTestCloud(t);
  const keyA = c.apiKey; // edge-001
  const keyB = (await c.ctx.apiKeys.create('edge-002')).key;
  return { c, keyA, keyB };
}

async function as(c: TestCloud, method: string, path: string, json?: unknown) {
  const r = await c.req(path, { method, token: c.adminToken, json });
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
  return r.status === 204 ? null : r.json();
}

const bundle = async (c: TestCloud, key: string, edge = 'edge-001') => {
  const r = await c.req(`/edges/${edge}/config`, { key });
  if (r.status !== 200) throw new Error(`bundle: ${r.status}`);
  return EdgeConfigBundle.parse(await r.json());
};

/** The version a heartbeat of `edge` is told to be at. */
const told = async (c: TestCloud, key: string, edge = 'edge-001', lists: Array<{ id: string; version: string }> = []) => {
  const r = await c.req(`/edges/${edge}/heartbeat`, { method: 'POST', key, json: heartbeatBody({ cameras: [], lists, instance_id: `inst-${edge}-0001` }) });
  if (r.status !== 200) throw new Error(`heartbeat: ${r.status} ${await r.text()}`);
  return (await r.json()).config.current_version as string;
};

t.test('the bundle lists what the edge applies, without entries; its version moves with each list change of that edge only', async (t) => {
  const { c, keyA, keyB } = await site(t);
  const empty = await bundle(c, keyA);
  t.same(empty.lists, [], 'no lists yet');
  // Without lists the version is the hash of the items alone, as before lists existed: an
  // upgraded cloud does not make every edge fetch its unchanged config again.
  const bare = Object.fromEntries((['cameras', 'zones', 'sensors', 'models', 'exporters'] as const).map((k) => [k, empty[k].map(({ created_at: _c, updated_at: _u, ...rest }) => rest)]));
  t.equal(empty.version, createHash('sha256').update(canonicalJson(bare)).digest('hex').slice(0, 16), 'an edge without lists keeps its version');

  await as(c, 'POST', '/config/lists', { id: 'all', name: 'All', type: 'deny', entries: [{ plate: 'D1' }] });
  await as(c, 'POST', '/config/lists', { id: 'mine', name: 'Mine', type: 'allow', edge_id: 'edge-001', enabled: false });
  await as(c, 'POST', '/config/lists', { id: 'theirs', name: 'Theirs', type: 'allow', edge_id: 'edge-002' });
  const a = await bundle(c, keyA);
  t.same(a.lists.map((l) => l.id), ['all', 'mine'], "every edge's lists and its own, a disabled one too");
  t.match(a.lists[0], { id: 'all', type: 'deny', entries_count: 1, version: (await as(c, 'GET', '/config/lists/all')).version });
  t.notOk('entries' in a.lists[0]!, 'without entries');
  t.same((await bundle(c, keyB, 'edge-002')).lists.map((l) => l.id), ['all', 'theirs']);
  t.same((await (await c.req('/config/lists', { key: keyA })).json()).items, a.lists, 'the bundle is what the key lists');

  let versionA = a.version;
  let versionB = (await bundle(c, keyB, 'edge-002')).version;
  t.equal(await told(c, keyA), versionA, 'the heartbeat answers the bundle version');
  const changes: Array<[string, () => Promise<unknown>, boolean]> = [
    ['an entry added to a list of every edge', () => as(c, 'POST', '/config/lists/all/entries', { entries: [{ plate: 'D2' }] }), true],
    ["an entry removed from edge-001's own list", async () => (await as(c, 'POST', '/config/lists/mine/entries', { entries: [{ plate: 'A1' }] }), as(c, 'DELETE', '/config/lists/mine/entries/A1')), false],
    ["edge-001's list enabled", () => as(c, 'PUT', '/config/lists/mine', { name: 'Mine', type: 'allow', edge_id: 'edge-001', enabled: true }), false],
    ['entries of a list of every edge replaced by CSV', () => c.req('/config/lists/all/entries', { method: 'PUT', token: c.adminToken, body: 'plate\nD9\n', headers: { 'content-type': 'text/csv' } }), true],
    ['a list of every edge deleted', () => as(c, 'DELETE', '/config/lists/all'), true],
  ];
  for (const [what, change, movesB] of changes) {
    await change();
    const nowA = await bundle(c, keyA);
    t.not(nowA.version, versionA, `${what}: edge-001's bundle version moves`);
    t.equal(await told(c, keyA), nowA.version, `${what}: and the heartbeat says so at once`);
    const nowB = (await bundle(c, keyB, 'edge-002')).version;
    if (movesB) t.not(nowB, versionB, `${what}: edge-002's too`);
    else t.equal(nowB, versionB, `${what}: edge-002's does not`);
    versionA = nowA.version;
    versionB = nowB;
  }
  await as(c, 'POST', '/config/lists/theirs/entries', { entries: [{ plate: 'B1' }] });
  t.equal((await bundle(c, keyA)).version, versionA, "a change of edge-002's own list leaves edge-001's version");
  t.not((await bundle(c, keyB, 'edge-002')).version, versionB);
  const same = await as(c, 'PUT', '/config/lists/mine', { name: 'Mine', type: 'allow', edge_id: 'edge-001', enabled: true });
  t.ok(same, 'an unchanged PUT');
  t.equal((await bundle(c, keyA)).version, versionA, 'changes nothing');
  const etag = `"${versionA}"`;
  t.equal((await c.req('/edges/edge-001/config', { key: keyA, headers: { 'if-none-match': etag } })).status, 304, 'and the edge polling it gets a 304');
});

t.test("the heartbeat's lists: kept in the edge's status, and the list detail says which edges are current", async (t) => {
  const { c, keyA, keyB } = await site(t);
  const all = await as(c, 'POST', '/config/lists', { id: 'all', name: 'All', type: 'deny', entries: [{ plate: 'D1' }] });
  const mine = await as(c, 'POST', '/config/lists', { id: 'mine', name: 'Mine', type: 'allow', edge_id: 'edge-001' });

  await told(c, keyA, 'edge-001', [{ id: 'all', version: all.version }, { id: 'mine', version: mine.version }]);
  await told(c, keyB, 'edge-002', []);
  const statusA = await as(c, 'GET', '/edges/edge-001');
  t.same(statusA.lists, [{ id: 'all', version: all.version }, { id: 'mine', version: mine.version }], 'GET /edges/{id} says which list versions the edge decides with');
  t.same((await as(c, 'GET', '/edges/edge-002')).lists, []);
  t.same((await (await c.req('/edges/edge-001', { key: keyA })).json()).lists, statusA.lists, 'its own key reads it too');

  let detail = await as(c, 'GET', '/config/lists/all');
  t.same(detail.edges, [
    { id: 'edge-001', version: all.version, current: true },
    { id: 'edge-002', version: null, current: false },
  ]);
  await as(c, 'POST', '/config/lists/all/entries', { entries: [{ plate: 'D2' }] });
  detail = await as(c, 'GET', '/config/lists/all');
  t.same(detail.edges[0], { id: 'edge-001', version: all.version, current: false }, 'the list changed: edge-001 is behind until it reports the new version');
  await told(c, keyA, 'edge-001', [{ id: 'all', version: detail.version }]);
  t.same((await as(c, 'GET', '/config/lists/all')).edges[0], { id: 'edge-001', version: detail.version, current: true });
  t.same((await as(c, 'GET', '/config/lists/mine')).edges, [{ id: 'edge-001', version: null, current: false }], 'a list the edge no longer reports');

  // Written through at once (a change of list versions is not held back by the heartbeat throttle).
  const stored = c.ctx.database.sqlite!.db.prepare("SELECT heartbeat FROM edges WHERE id = 'edge-001'").pluck().get() as string;
  t.same(JSON.parse(stored).lists, [{ id: 'all', version: detail.version }]);

  const bad = await c.req('/edges/edge-001/heartbeat', { method: 'POST', key: keyA, json: heartbeatBody({ lists: [{ id: 'all', version: 7 as never }] }) });
  t.equal(bad.status, 400, 'a version that is not a string');
  t.match((await bad.json()).errors[0].field, 'lists.0.version');
  const many = Array.from({ length: 1025 }, (_, i) => ({ id: `l${i}`, version: '1' }));
  t.equal((await c.req('/edges/edge-001/heartbeat', { method: 'POST', key: keyA, json: heartbeatBody({ lists: many }) })).status, 400, 'more lists than an edge applies');
});
