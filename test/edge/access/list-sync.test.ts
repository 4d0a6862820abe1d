/**
 * The edge's access lists against the real cloud (edge/access/list-sync.ts): whole lists only,
 * on disk before in force, a list changed mid-read keeps the version in force, a list no longer
 * in the bundle stops applying, and an edge key sees only its own edge's lists.
 */
import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ListSync } from '../../../edge/access/list-sync.js';
import { fetchBundle } from '../../../edge/config/cloud-sync.js';
import type { ListSnapshot } from '../../../shared/schemas/lists.js';
import { startTestCloud } from '../../cloud/helpers.js';
import { tempDir } from '../../fixtures/media.js';

t.test('lists follow the bundle: fetched whole, kept on disk, refreshed when their version moves, dropped when gone', async (t) => {
  const c = await startTestCloud(t);
  const admin = { token: c.adminToken };
  const post = async (json: unknown) => {
    const r = await c.req('/config/lists', { method: 'POST', ...admin, json });
    t.equal(r.status, 201, `list created: ${JSON.stringify(json).slice(0, 60)}`);
  };
  // 25,000 entries: three pages of 10,000.
  await post({ id: 'staff', name: 'Staff', type: 'allow', edge_id: 'edge-001', entries: Array.from({ length: 25_000 }, (_, i) => ({ plate: `S${String(i).padStart(6, '0')}` })) });
  await post({ id: 'banned', name: 'Banned', type: 'deny', entries: [{ plate: 'XY-999', label: 'Mallory' }] });
  const other = await c.req('/edges', { method: 'POST', ...admin, json: { id: 'edge-002', name: 'Other gate' } });
  t.ok(other.status === 201 || other.status === 409, 'a second edge');
  await post({ id: 'theirs', name: 'Other gate', type: 'allow', edge_id: 'edge-002', entries: [{ plate: 'OTHER1' }] });

  const dataDir = tempDir(t);
  const changes: ListSnapshot[][] = [];
  const cloud = { url: c.url, api_key: c.apiKey, timeout_ms: 10_000 };
  const sync = new ListSync({ dataDir, cloud, onChange: (l) => changes.push(l) });
  const bundle = async () => {
    const b = await fetchBundle(c.url, c.apiKey, 'edge-001');
    if (b.status !== 'bundle') throw new Error(b.status);
    return b.bundle;
  };

  const first = await bundle();
  t.same(first.lists.map((l) => l.id).sort(), ['banned', 'staff'], "the bundle names this edge's lists and the global one, not another edge's");
  await sync.reconcile(first.lists);
  t.equal(sync.lastError, null);
  t.same(sync.lists.map((l) => [l.id, l.entries.length]).sort(), [['banned', 1], ['staff', 25_000]]);
  t.equal(changes.length, 1, 'one change for the whole reconcile');
  const onDisk = JSON.parse(readFileSync(join(dataDir, 'lists', 'staff.json'), 'utf8')) as ListSnapshot;
  t.equal(onDisk.entries.length, 25_000, 'on disk, whole');
  t.equal(sync.lists.find((l) => l.id === 'banned')!.entries[0]!.plate, 'XY999', 'normalised');

  // Unchanged: nothing fetched, no change.
  await sync.reconcile((await bundle()).lists);
  t.equal(changes.length, 1, 'an unchanged bundle changes nothing');

  // A list changed between the bundle and the read: the version in force stays, the error says why.
  const stale = first.lists.find((l) => l.id === 'banned')!;
  const r = await c.req('/config/lists/banned/entries', { method: 'POST', ...admin, json: { entries: [{ plate: 'ZZ111' }] } });
  t.equal(r.status, 200);
  await sync.reconcile([first.lists.find((l) => l.id === 'staff')!, { ...stale, version: `${stale.version}-old` }]);
  t.match(sync.lastError, /list banned: changed while read/);
  t.equal(sync.lists.find((l) => l.id === 'banned')!.entries.length, 1, 'the version in force keeps deciding');
  // The next bundle has the new version: read whole.
  await sync.reconcile((await bundle()).lists);
  t.equal(sync.lastError, null);
  t.same(sync.lists.find((l) => l.id === 'banned')!.entries.map((e) => e.plate), ['XY999', 'ZZ111']);

  // An edge key cannot read another edge's list.
  const theirs = await c.req('/config/lists/theirs/entries', { key: c.apiKey });
  t.equal(theirs.status, 403, "another edge's entries: 403");

  // Another process (a restart without the cloud) decides with what is on disk.
  const offline = new ListSync({ dataDir, cloud: null });
  t.same(offline.loadCached().map((l) => [l.id, l.entries.length]).sort(), [['banned', 2], ['staff', 25_000]]);

  // Deleted in the cloud: gone from the bundle, stops applying, its file removed.
  t.equal((await c.req('/config/lists/staff', { method: 'DELETE', ...admin })).status, 204);
  await sync.reconcile((await bundle()).lists);
  t.same(sync.lists.map((l) => l.id), ['banned']);
  t.notOk(existsSync(join(dataDir, 'lists', 'staff.json')), 'its file deleted');
});
