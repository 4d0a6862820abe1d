/**
 * The EdgesStore contract (cloud/store/contracts.ts) on both backends: SqliteEdgesStore and
 * PgEdgesStore register, adopt cameras, record heartbeats, rename and delete alike (the camera
 * bodies they write are the same text), and on PostgreSQL (calls really at once, through the
 * pool) one new edge registered twice at once is registered once, only one of two new edges
 * adopts the cameras, and an edge deleted while a key is made for it leaves no live key of a
 * deleted edge.
 */
import t from 'tap';
import { SqliteApiKeysStore } from '../../../cloud/auth/api-keys.js';
import { SqliteEdgesStore } from '../../../cloud/edges/edges-store.js';
import { asyncView } from '../../../cloud/store/async-view.js';
import type { ApiKeysStore, EdgesStore } from '../../../cloud/store/contracts.js';
import { PgApiKeysStore } from '../../../cloud/store/pg/pg-api-keys-store.js';
import { PgEdgesStore } from '../../../cloud/store/pg/pg-edges-store.js';
import { atOnce, eachBackend, rows, type Backend } from '../../fixtures/store-backends.js';

const edgesOf = (b: Backend): EdgesStore => (b.kind === 'sqlite' ? asyncView(new SqliteEdgesStore(b.db)) : new PgEdgesStore(b.pool));
const keysOf = (b: Backend): ApiKeysStore => (b.kind === 'sqlite' ? asyncView(new SqliteApiKeysStore(b.db)) : new PgApiKeysStore(b.pool));

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const THEN = '2024-01-01T00:00:00.000Z';
const BAD_EDGE = { code: 'VALIDATION_ERROR', status: 400, errors: [{ field: 'edge_id', message: 'edge_id: must be 1-128 characters of A-Z a-z 0-9 . _ : - and start with a letter or digit' }] };

/** A config item as the config store writes it: the edge in the column and in the body. */
const addItem = (b: Backend, kind: string, id: string, body: Record<string, unknown>) =>
  rows(b, 'INSERT INTO config_items (kind, id, body, edge_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)', [
    kind, id, JSON.stringify(body), (body.edge_id as string | null | undefined) ?? null, THEN, THEN,
  ]);
const item = async (b: Backend, kind: string, id: string) =>
  (await rows<{ body: string; edge_id: string | null; updated_at: string }>(b, 'SELECT body, edge_id, updated_at FROM config_items WHERE kind = ? AND id = ?', [kind, id]))[0];

t.test('EdgesStore contract, on SQLite and PostgreSQL', async (t) => {
  t.test('ensure, get, list, count, soleEdge, saveHeartbeat and rename', (t) =>
    eachBackend(t, async (t, b) => {
      const edges = edgesOf(b);
      t.equal(await edges.count(), 0);
      t.same(await edges.list(), []);
      t.equal(await edges.soleEdge(), null, 'no edge: null');
      t.equal(await edges.get('gate-b'), undefined);
      t.equal(await edges.ensure('gate-b'), true, 'new: true');
      t.equal(await edges.soleEdge(), 'gate-b', 'one edge: its id');
      t.equal(await edges.ensure('Gate-A', 'Front gate'), true);
      t.equal(await edges.ensure('1gate'), true);
      t.equal(await edges.ensure('gate-a'), true);
      t.equal(await edges.ensure('gate-b', 'Another name'), false, 'known: false');
      t.equal(await edges.soleEdge(), null, 'several: null');
      t.equal(await edges.count(), 4);
      t.same((await edges.list()).map((e) => e.id), ['1gate', 'Gate-A', 'gate-a', 'gate-b'], 'by id, byte order');
      const a = await edges.get('Gate-A');
      t.same(a, { id: 'Gate-A', name: 'Front gate', created_at: a?.created_at, instance_id: null, last_seen_at: null, heartbeat: null });
      t.match(a, { created_at: ISO });
      t.equal((await edges.get('gate-b'))!.name, 'gate-b', 'named after its id by default, and a repeat renames nothing');

      t.equal(await edges.saveHeartbeat('gate-a', 'inst-1', 1_700_000_000_123, '{"ok":true}'), true);
      t.match(await edges.get('gate-a'), { instance_id: 'inst-1', last_seen_at: 1_700_000_000_123, heartbeat: '{"ok":true}' });
      t.equal(typeof (await edges.get('gate-a'))!.last_seen_at, 'number', 'ms as a number');
      t.equal(await edges.saveHeartbeat('nobody', 'inst-1', 1, '{}'), false, 'unknown: false');
      t.equal(await edges.saveHeartbeat('gate-a', null, null, null), true);
      t.match(await edges.get('gate-a'), { instance_id: null, last_seen_at: null, heartbeat: null });

      t.equal(await edges.rename('gate-a', 'Side gate'), true);
      t.equal((await edges.get('gate-a'))!.name, 'Side gate');
      t.equal(await edges.rename('nobody', 'x'), false);

      await t.rejects(edges.ensure('bad id'), BAD_EDGE);
      await t.rejects(edges.ensure(''), BAD_EDGE);
      await t.rejects(edges.ensure('-gate'), BAD_EDGE);
      await t.rejects(edges.ensure('x'.repeat(129)), BAD_EDGE);
      t.equal(await edges.count(), 4, 'nothing registered');
    }));

  t.test('the first edge adopts the cameras without an edge; later edges do not', (t) =>
    eachBackend(t, async (t, b) => {
      const edges = edgesOf(b);
      await addItem(b, 'cameras', 'cam-1', { id: 'cam-1', name: 'Front', edge_id: null, enabled: true });
      await addItem(b, 'cameras', 'cam-2', { id: 'cam-2', name: 'Back \u00e9\u0000' });
      await addItem(b, 'exporters', 'exp-1', { id: 'exp-1', edge_id: null });
      t.equal(await edges.ensure('gate-1'), true);
      t.same(await item(b, 'cameras', 'cam-1'), { body: '{"id":"cam-1","name":"Front","edge_id":"gate-1","enabled":true}', edge_id: 'gate-1', updated_at: THEN },
        'the body and the column, updated_at as it was');
      t.same(await item(b, 'cameras', 'cam-2'), { body: JSON.stringify({ id: 'cam-2', name: 'Back \u00e9\u0000', edge_id: 'gate-1' }), edge_id: 'gate-1', updated_at: THEN },
        'a body without the field gets it last');
      t.same(await item(b, 'exporters', 'exp-1'), { body: '{"id":"exp-1","edge_id":null}', edge_id: null, updated_at: THEN }, 'exporters are not adopted');
      await addItem(b, 'cameras', 'cam-3', { id: 'cam-3', edge_id: null });
      t.equal(await edges.ensure('gate-1'), false);
      t.equal(await edges.ensure('gate-2'), true);
      t.same(await item(b, 'cameras', 'cam-3'), { body: '{"id":"cam-3","edge_id":null}', edge_id: null, updated_at: THEN }, 'a second edge adopts nothing');
    }));

  t.test('delete revokes the keys, unassigns the cameras and deletes the exporters of the edge', (t) =>
    eachBackend(t, async (t, b) => {
      const edges = edgesOf(b);
      const keys = keysOf(b);
      const k1 = await keys.create('gate-1', 'one');
      const k2 = await keys.create('gate-1', 'two');
      const k3 = await keys.create('gate-2', 'three');
      await keys.revoke(k2.info.id);
      const k2Revoked = (await keys.list()).find((k) => k.id === k2.info.id)!.revoked_at;
      await addItem(b, 'cameras', 'cam-1', { id: 'cam-1', name: 'Front', edge_id: 'gate-1' });
      await addItem(b, 'cameras', 'cam-2', { id: 'cam-2', edge_id: 'gate-2' });
      await addItem(b, 'exporters', 'exp-1', { id: 'exp-1', edge_id: 'gate-1' });
      await addItem(b, 'exporters', 'exp-2', { id: 'exp-2', edge_id: 'gate-2' });
      await addItem(b, 'exporters', 'exp-3', { id: 'exp-3', edge_id: null });

      t.equal(await edges.delete('gate-1'), true);
      t.equal(await edges.get('gate-1'), undefined);
      t.same((await edges.list()).map((e) => e.id), ['gate-2']);
      const listed = new Map((await keys.list()).map((k) => [k.id, k]));
      const revokedAt = listed.get(k1.info.id)!.revoked_at;
      t.match(revokedAt, ISO, "the edge's keys are revoked");
      t.equal(listed.get(k2.info.id)!.revoked_at, k2Revoked, 'a key revoked before keeps its time');
      t.equal(listed.get(k3.info.id)!.revoked_at, null, "another edge's keys stay");
      t.equal(await keys.isActive(k1.info.id), false);
      t.same(await item(b, 'cameras', 'cam-1'), { body: '{"id":"cam-1","name":"Front","edge_id":null}', edge_id: null, updated_at: revokedAt }, 'its cameras have no edge now');
      t.same(await item(b, 'cameras', 'cam-2'), { body: '{"id":"cam-2","edge_id":"gate-2"}', edge_id: 'gate-2', updated_at: THEN });
      t.same((await rows<{ id: string }>(b, "SELECT id FROM config_items WHERE kind = 'exporters' ORDER BY id")).map((r) => r.id), ['exp-2', 'exp-3'], 'its own exporters are deleted');
      t.equal(await edges.delete('gate-1'), false, 'again: false');
      t.equal(await edges.delete('nobody'), false);
    }));

  t.test('one new edge registered twice at once: registered once, neither call fails', (t) =>
    eachBackend(t, async (t, b) => {
      const edges = edgesOf(b);
      await addItem(b, 'cameras', 'cam-1', { id: 'cam-1', edge_id: null });
      // The held row is the same edge being inserted, rolled back: both calls wait on it, then race.
      const results = await atOnce(b, { sql: "INSERT INTO edges (id, name, created_at) VALUES ('gate-9', 'held', 'x')", waiters: 2, end: 'ROLLBACK' }, () => [
        edges.ensure('gate-9'),
        edges.ensure('gate-9'),
      ]);
      t.same(results.map((r) => r.status), ['fulfilled', 'fulfilled'], 'neither fails');
      t.same(results.map((r) => (r as PromiseFulfilledResult<boolean>).value).sort(), [false, true], 'one registered it');
      t.same(await edges.list(), [{ id: 'gate-9', name: 'gate-9', created_at: (await edges.get('gate-9'))!.created_at, instance_id: null, last_seen_at: null, heartbeat: null }]);
      t.same(await item(b, 'cameras', 'cam-1'), { body: '{"id":"cam-1","edge_id":"gate-9"}', edge_id: 'gate-9', updated_at: THEN }, 'and adopted the camera');
    }));

  t.test('two new edges at once on a site without edges: one adopts, the other finds it registered', (t) =>
    eachBackend(t, async (t, b) => {
      const edges = edgesOf(b);
      await addItem(b, 'cameras', 'cam-1', { id: 'cam-1', edge_id: null });
      await addItem(b, 'cameras', 'cam-2', { id: 'cam-2', edge_id: null });
      const results = await atOnce(b, { sql: "SELECT 1 FROM config_items WHERE kind = 'cameras' FOR UPDATE", waiters: 2, end: 'COMMIT' }, () => [
        edges.ensure('gate-a'),
        edges.ensure('gate-b'),
      ]);
      t.same(results.map((r) => (r.status === 'fulfilled' ? r.value : r.reason)), [true, true], 'both registered');
      const cams = await rows<{ body: string; edge_id: string | null }>(b, "SELECT body, edge_id FROM config_items WHERE kind = 'cameras' ORDER BY id");
      const owners = new Set(cams.map((c) => c.edge_id));
      t.equal(owners.size, 1, 'every camera went to one edge');
      t.ok(['gate-a', 'gate-b'].includes([...owners][0]!), 'one of the two');
      t.same(cams.map((c) => (JSON.parse(c.body) as { edge_id: unknown }).edge_id), cams.map((c) => c.edge_id), 'bodies say the same');
    }));

  t.test('an edge deleted while a key is made for it: no live key of a deleted edge', (t) =>
    eachBackend(t, async (t, b) => {
      const edges = edgesOf(b);
      const keys = keysOf(b);
      const first = await keys.create('gate-1', 'first');
      const results = await atOnce(b, { sql: "SELECT 1 FROM edges WHERE id = 'gate-1' FOR UPDATE", waiters: 2, end: 'COMMIT' }, () => [
        edges.delete('gate-1'),
        keys.create('gate-1', 'late').then(() => true),
      ]);
      t.same(results.map((r) => (r.status === 'fulfilled' ? r.value : r.reason)), [true, true], 'both done');
      t.equal(await keys.isActive(first.info.id), false, 'the key it had is revoked');
      const orphans = [];
      for (const k of await keys.list()) if (k.revoked_at === null && !(await edges.get(k.edge_id))) orphans.push(k.name);
      t.same(orphans, [], 'every live key belongs to an edge that exists');
    }));
});
