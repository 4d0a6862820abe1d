/** Migration 4 on a database at version 3: keys get their edge, a sole edge adopts the cameras. */
import t from 'tap';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate } from '../../../cloud/db/migrations.js';
import { startTestCloud } from '../helpers.js';

/** A version-3 database (migrations 1-3 only) with these keys and two cameras. */
function v3(t: Parameters<typeof startTestCloud>[0], keys: Array<{ name: string; revoked?: boolean }>): string {
  const dir = mkdtempSync(join(tmpdir(), 'anpr-mig4-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const db = new Database(join(dir, 'anpr.db'));
  migrate(db, 3);
  t.equal(db.pragma('user_version', { simple: true }), 3);
  const now = new Date().toISOString();
  keys.forEach((k, i) =>
    db.prepare('INSERT INTO api_keys (id, name, prefix, key_hash, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?)').run(`key_${i}`, k.name, 'anpr_xxxxx', `hash-${i}`, now, k.revoked ? now : null),
  );
  for (const id of ['cam-001', 'cam-002']) {
    const body = JSON.stringify({ id, name: id, rtsp_url: 'rtsp://127.0.0.1/x', enabled: true, created_at: now, updated_at: now });
    db.prepare("INSERT INTO config_items (kind, id, body, enabled, created_at, updated_at) VALUES ('cameras', ?, ?, 1, ?, ?)").run(id, body, now, now);
  }
  db.close();
  return dir;
}

const camEdges = (db: Database.Database) =>
  db.prepare("SELECT id, edge_id, json_extract(body, '$.edge_id') AS body_edge FROM config_items WHERE kind = 'cameras' ORDER BY id").all();

t.test('one key: it becomes the edge, which adopts the cameras; the cloud serves it', async (t) => {
  const dir = v3(t, [{ name: 'gate 1' }, { name: 'old', revoked: true }]);
  const db = new Database(join(dir, 'anpr.db'));
  migrate(db);
  t.ok((db.pragma('user_version', { simple: true }) as number) >= 4, 'migrated past 4');
  t.same(db.prepare('SELECT id, edge_id FROM api_keys ORDER BY id').all(), [{ id: 'key_0', edge_id: 'gate-1' }, { id: 'key_1', edge_id: 'old' }], "a space in the name becomes '-'");
  t.same(db.prepare('SELECT id, name FROM edges').all(), [{ id: 'gate-1', name: 'gate 1' }], 'only unrevoked keys make edges');
  t.same(camEdges(db), [{ id: 'cam-001', edge_id: 'gate-1', body_edge: 'gate-1' }, { id: 'cam-002', edge_id: 'gate-1', body_edge: 'gate-1' }]);
  db.close();
  const c = await startTestCloud(t, {}, dir);
  const edge = await (await c.req('/edges/gate-1', { token: c.adminToken })).json();
  t.match(edge, { id: 'gate-1', status: 'offline', assigned_cameras: ['cam-001', 'cam-002'] });
});

t.test('two keys: two edges, the cameras stay unassigned', async (t) => {
  const dir = v3(t, [{ name: 'gate-1' }, { name: 'gate-2' }]);
  const db = new Database(join(dir, 'anpr.db'));
  migrate(db);
  t.same(db.prepare('SELECT id FROM edges ORDER BY id').pluck().all(), ['gate-1', 'gate-2']);
  t.same(camEdges(db), [{ id: 'cam-001', edge_id: null, body_edge: null }, { id: 'cam-002', edge_id: null, body_edge: null }]);
  db.close();
});
