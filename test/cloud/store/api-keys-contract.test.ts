/**
 * The ApiKeysStore contract (cloud/store/contracts.ts) on both backends: SqliteApiKeysStore and
 * PgApiKeysStore create (registering the edge), list, revoke and verify alike, cache lookups
 * for CACHE_MS and write last_used_at once a minute, store only hashes, and two keys made at
 * once on PostgreSQL (really at once, through the pool) for one new edge register it once.
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { CACHE_MS, SqliteApiKeysStore, type ApiKeyInfo } from '../../../cloud/auth/api-keys.js';
import { asyncView } from '../../../cloud/store/async-view.js';
import type { ApiKeysStore } from '../../../cloud/store/contracts.js';
import { PgApiKeysStore } from '../../../cloud/store/pg/pg-api-keys-store.js';
import { atOnce, eachBackend, rows, type Backend } from '../../fixtures/store-backends.js';

const keysOf = (b: Backend): ApiKeysStore => (b.kind === 'sqlite' ? asyncView(new SqliteApiKeysStore(b.db)) : new PgApiKeysStore(b.pool));

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const BAD_NAME = { code: 'VALIDATION_ERROR', status: 400, message: 'key name must be 1-64 characters of letters, digits, space, . _ -' };
const BAD_EDGE = { code: 'VALIDATION_ERROR', status: 400, errors: [{ field: 'edge_id', message: 'edge_id: must be 1-128 characters of A-Z a-z 0-9 . _ : - and start with a letter or digit' }] };

const lastUsed = async (b: Backend, id: string) => (await rows<{ last_used_at: string | null }>(b, 'SELECT last_used_at FROM api_keys WHERE id = ?', [id]))[0]!.last_used_at;

/** Date.now as `clock.now` says, for the body of `fn` (the cache and the once-a-minute write read it). */
async function withClock<T>(fn: (clock: { now: number }) => Promise<T>): Promise<T> {
  const real = Date.now;
  const clock = { now: real() };
  Date.now = () => clock.now;
  try {
    return await fn(clock);
  } finally {
    Date.now = real;
  }
}

t.test('ApiKeysStore contract, on SQLite and PostgreSQL', async (t) => {
  t.test('create registers the edge, shows the key once and stores its hash', (t) =>
    eachBackend(t, async (t, b) => {
      const keys = keysOf(b);
      const a = await keys.create('gate-1');
      t.match(a.key, /^anpr_[A-Za-z0-9_-]{43}$/);
      t.same(a.info, { id: a.info.id, name: 'gate-1', edge_id: 'gate-1', prefix: a.key.slice(0, 10), created_at: a.info.created_at, last_used_at: null, revoked_at: null }, 'named after its edge by default');
      t.match(a.info, { id: /^key_[0-9a-f]{12}$/, created_at: ISO });
      t.match(await rows(b, 'SELECT id, name FROM edges'), [{ id: 'gate-1', name: 'gate-1' }], 'the edge is registered with it');
      t.same(await rows(b, 'SELECT key_hash FROM api_keys'), [{ key_hash: createHash('sha256').update(a.key).digest('hex') }], 'only its sha256 is stored');
      const spare = await keys.create('gate-1', 'spare key');
      const other = await keys.create('gate-2', 'Gate 2.b_c-d');
      t.equal((await rows(b, 'SELECT id FROM edges')).length, 2, 'a second key of an edge registers nothing');
      const byAge = (x: ApiKeyInfo, y: ApiKeyInfo) => (x.created_at < y.created_at ? -1 : x.created_at > y.created_at ? 1 : x.id < y.id ? -1 : 1);
      t.same(await keys.list(), [a.info, spare.info, other.info].sort(byAge), 'oldest first, then by id');
      t.same(await keys.list('gate-1'), [a.info, spare.info].sort(byAge), "one edge's");
      t.same(await keys.list('nobody'), []);

      await t.rejects(keys.create('gate-3', ''), BAD_NAME);
      await t.rejects(keys.create('gate-3', 'bad/name'), BAD_NAME);
      await t.rejects(keys.create('gate-3', ' leading space'), BAD_NAME);
      await t.rejects(keys.create('gate-3', 'x'.repeat(65)), BAD_NAME);
      await t.rejects(keys.create('bad id', 'fine'), BAD_EDGE);
      await t.rejects(keys.create('bad/id'), BAD_NAME, 'the name is checked first (it defaults to the edge id)');
      await t.rejects(keys.create('', 'fine'), BAD_EDGE);
      t.equal((await rows(b, 'SELECT id FROM edges')).length, 2, 'a refused key registers no edge');
      t.equal((await keys.list()).length, 3, 'and stores no key');
    }));

  t.test('revoke by id or name, isActive and verify', (t) =>
    eachBackend(t, async (t, b) => {
      const keys = keysOf(b);
      const front = await keys.create('gate-1', 'front');
      const back1 = await keys.create('gate-1', 'back');
      const back2 = await keys.create('gate-2', 'back');
      t.same(await keys.verify(front.key), front.info, 'a valid key: its record');
      t.same(await keys.verify(back2.key), back2.info);
      t.equal(await keys.verify(`${front.key}x`), null, 'unknown');
      t.equal(await keys.verify('anpr_x'), null, 'too short to look up');
      t.equal(await keys.verify(`anpr_${'x'.repeat(300)}`), null, 'too long to look up');
      t.equal(await keys.isActive(front.info.id), true);
      t.equal(await keys.isActive('key_nope'), false);

      t.equal(await keys.revoke(front.info.id), 1, 'by id');
      t.equal(await keys.isActive(front.info.id), false);
      t.equal(await keys.verify(front.key), null, 'refused at once through the store that revoked it');
      t.equal(await keys.revoke(front.info.id), 0, 'a revoked key is not revoked again');
      t.equal(await keys.revoke('back'), 2, 'by name: every key of that name');
      t.equal(await keys.revoke('back'), 0);
      t.equal(await keys.revoke('nothing'), 0);
      const listed = await keys.list();
      t.match(listed, [{ revoked_at: ISO }, { revoked_at: ISO }, { revoked_at: ISO }], 'revocation is shown');
      t.equal(await keys.verify(back1.key), null);
    }));

  t.test('lookups are trusted for CACHE_MS; last_used_at is written at most once a minute', (t) =>
    eachBackend(t, async (t, b) =>
      withClock(async (clock) => {
        const here = keysOf(b);
        const elsewhere = keysOf(b); // another replica, or `anpr apikey revoke`
        const k = await here.create('gate-1');
        t.ok(await here.verify(k.key));
        t.equal(await lastUsed(b, k.info.id), new Date(clock.now).toISOString(), 'first use: written');
        t.equal(await elsewhere.revoke(k.info.id), 1);
        clock.now += CACHE_MS - 1;
        t.same(await here.verify(k.key), k.info, 'revoked elsewhere: still trusted here until CACHE_MS');
        t.equal(await here.isActive(k.info.id), false, 'isActive asks the database');
        clock.now += 1;
        t.equal(await here.verify(k.key), null, 'refused once the lookup is CACHE_MS old');

        const k2 = await here.create('gate-2');
        const t0 = clock.now;
        await here.verify(k2.key);
        t.equal(await lastUsed(b, k2.info.id), new Date(t0).toISOString());
        clock.now += 30_000;
        t.match(await here.verify(k2.key), { last_used_at: new Date(t0).toISOString() }, 'looked up again (the cache expired): the stored record');
        t.equal(await lastUsed(b, k2.info.id), new Date(t0).toISOString(), 'not written again within the minute');
        clock.now += 30_001;
        await here.verify(k2.key);
        t.equal(await lastUsed(b, k2.info.id), new Date(clock.now).toISOString(), 'written again past the minute');

        const k3 = await here.create('gate-3');
        t.ok(await here.verify(k3.key));
        await rows(b, "UPDATE api_keys SET revoked_at = '2024-01-01T00:00:00.000Z' WHERE id = ?", [k3.info.id]);
        t.ok(await here.verify(k3.key), 'revoked behind the store: cached');
        await here.clearCache();
        t.equal(await here.verify(k3.key), null, 'clearCache forgets it');
      })));

  t.test('two keys made at once for one new edge register it once', (t) =>
    eachBackend(t, async (t, b) => {
      const keys = keysOf(b);
      // The held row is the same edge being inserted, rolled back: both calls wait on it, then race.
      const results = await atOnce(b, { sql: "INSERT INTO edges (id, name, created_at) VALUES ('gate-9', 'held', 'x')", waiters: 2, end: 'ROLLBACK' }, () => [
        keys.create('gate-9', 'one'),
        keys.create('gate-9', 'two'),
      ]);
      t.same(results.map((r) => r.status), ['fulfilled', 'fulfilled'], 'neither fails');
      t.same(await rows(b, 'SELECT id, name FROM edges'), [{ id: 'gate-9', name: 'gate-9' }], 'one edge');
      t.same((await keys.list('gate-9')).map((k) => k.name).sort(), ['one', 'two'], 'both keys');
    }));
});
