/**
 * The UsersStore contract (cloud/store/contracts.ts) on both backends: SqliteUsersStore and
 * PgUsersStore give the same answers, and two admins demoted at once on PostgreSQL (really
 * at once, through the pool) never leave no admin.
 */
import t from 'tap';
import { verifyPassword } from '../../../cloud/auth/passwords.js';
import { SqliteUsersStore } from '../../../cloud/auth/users-store.js';
import { asyncView } from '../../../cloud/store/async-view.js';
import type { UsersStore } from '../../../cloud/store/contracts.js';
import { PgUsersStore } from '../../../cloud/store/pg/pg-users-store.js';
import { atOnce, eachBackend, type Backend } from '../../fixtures/store-backends.js';

const usersOf = (b: Backend): UsersStore => (b.kind === 'sqlite' ? asyncView(new SqliteUsersStore(b.db)) : new PgUsersStore(b.pool));

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

t.test('UsersStore contract, on SQLite and PostgreSQL', async (t) => {
  t.test('create, get, list and count', (t) =>
    eachBackend(t, async (t, b) => {
      const users = usersOf(b);
      t.equal(await users.count(), 0);
      t.equal(await users.countActiveAdmins(), 0);
      t.equal(await users.get('Ann'), undefined, 'unknown: undefined');
      t.same(await users.list(), []);
      await Promise.all([users.create('bob', 'pw-bob-1', 'viewer'), users.create('Ann', 'pw-ann-1', 'admin'), users.create('alice', 'pw-alice-1', 'operator')]);
      t.equal(await users.count(), 3);
      t.equal(await users.countActiveAdmins(), 1);
      const ann = await users.get('Ann');
      t.match(ann, { username: 'Ann', role: 'admin', disabled: 0, token_version: 0, created_at: ISO });
      t.ok(await verifyPassword('pw-ann-1', ann!.password_hash), 'stored as a hash of the password');
      t.notMatch(ann!.password_hash, /pw-ann-1/);
      const list = await users.list();
      t.same(list.map((u) => u.username), ['Ann', 'alice', 'bob'], 'by username, byte order');
      t.same(list.map((u) => Object.keys(u).sort()), Array(3).fill(['created_at', 'disabled', 'role', 'token_version', 'username']), 'never a password hash');
      t.same(list[2], { username: 'bob', role: 'viewer', disabled: 0, created_at: list[2]!.created_at, token_version: 0 });
      await t.rejects(users.create('bob', 'pw-bob-2', 'admin'), 'a username is taken once');
      t.equal((await users.get('bob'))!.role, 'viewer', 'and the first one is left as it was');
    }));

  t.test('setRole, setDisabled, setPassword and rehash', (t) =>
    eachBackend(t, async (t, b) => {
      const users = usersOf(b);
      await Promise.all([users.create('ann', 'pw-ann-1', 'admin'), users.create('bob', 'pw-bob-1', 'viewer')]);
      t.equal(await users.setRole('bob', 'operator'), true);
      t.equal(await users.setRole('nobody', 'admin'), false, 'unknown: false');
      t.match(await users.get('bob'), { role: 'operator', disabled: 0, token_version: 0 });
      t.equal(await users.setDisabled('bob', true), true);
      t.match(await users.get('bob'), { disabled: 1, token_version: 1 }, 'disabling ends access tokens');
      t.equal(await users.setDisabled('bob', false), true);
      t.match(await users.get('bob'), { disabled: 0, token_version: 1 }, 'enabling does not');
      t.equal(await users.setDisabled('nobody', true), false);
      t.equal(await users.setPassword('bob', 'pw-bob-2'), true);
      const bob = (await users.get('bob'))!;
      t.equal(bob.token_version, 2, 'a new password ends access tokens');
      t.ok(await verifyPassword('pw-bob-2', bob.password_hash));
      t.equal(await users.setPassword('nobody', 'pw'), false);
      await users.rehash('bob', 'scrypt$stronger');
      t.match(await users.get('bob'), { password_hash: 'scrypt$stronger', token_version: 2 }, 'a rehash keeps tokens valid');
      await users.rehash('nobody', 'x');
      t.equal(await users.count(), 2, 'a rehash of an unknown user adds no one');
      t.equal(await users.setDisabled('ann', true), true, 'the plain setters do not guard the last admin (change does)');
      t.equal(await users.countActiveAdmins(), 0);
    }));

  t.test('change applies role, disabled and password together and refuses to leave no admin', (t) =>
    eachBackend(t, async (t, b) => {
      const users = usersOf(b);
      await Promise.all([users.create('root', 'pw-root-1', 'admin'), users.create('op', 'pw-op-1', 'operator')]);
      t.equal(await users.change('ghost', { role: 'viewer' }), 'not-found');
      const before = await users.get('root');
      t.equal(await users.change('root', { role: 'operator' }), 'last-admin');
      t.equal(await users.change('root', { disabled: true, password: 'pw-root-2' }), 'last-admin');
      t.same(await users.get('root'), before, 'a refused change changes nothing, the password neither');
      t.same(await users.change('root', {}), before, 'an empty change returns the user as it is');

      const promoted = await users.change('op', { role: 'admin' });
      t.match(promoted, { username: 'op', role: 'admin', disabled: 0, token_version: 0 });
      t.same(promoted, await users.get('op'), 'returns the user as stored');
      t.equal(await users.countActiveAdmins(), 2);

      const root = await users.change('root', { disabled: true, password: 'pw-root-2' });
      t.match(root, { role: 'admin', disabled: 1, token_version: 2 }, 'disabling and a new password: token_version + 2');
      t.ok(await verifyPassword('pw-root-2', (root as { password_hash: string }).password_hash));
      t.equal(await users.change('op', { role: 'viewer' }), 'last-admin', 'a disabled admin does not count');
      t.equal(await users.change('op', { disabled: true }), 'last-admin');
      t.match(await users.change('root', { disabled: false }), { disabled: 0, token_version: 2 }, 'enabling keeps tokens');
      t.match(await users.change('op', { role: 'viewer', disabled: true }), { role: 'viewer', disabled: 1, token_version: 1 });
      t.match(await users.change('op', { role: 'operator' }), { role: 'operator', disabled: 1, token_version: 1 }, 'a disabled non-admin can change role');
      t.equal(await users.countActiveAdmins(), 1);
    }));

  t.test('two admins demoted at once: one change is refused and one admin remains', (t) =>
    eachBackend(t, async (t, b) => {
      const users = usersOf(b);
      await Promise.all([users.create('a1', 'pw-a1-1', 'admin'), users.create('a2', 'pw-a2-1', 'admin')]);
      // Several rounds: which call goes first after the lock is released is up to the scheduler.
      for (let round = 1; round <= 3; round++) {
        await users.setRole('a1', 'admin');
        await users.setDisabled('a2', false);
        const results = await atOnce(b, { sql: "SELECT 1 FROM users WHERE username IN ('a1', 'a2') FOR UPDATE", waiters: 2 }, () => [
          users.change('a1', { role: 'viewer' }),
          users.change('a2', { disabled: true }),
        ]);
        t.same(results.map((r) => r.status), ['fulfilled', 'fulfilled'], `round ${round}: neither fails`);
        const values = results.map((r) => (r.status === 'fulfilled' ? r.value : r.reason));
        t.equal(values.filter((v) => v === 'last-admin').length, 1, `round ${round}: exactly one is refused`);
        t.equal(await users.countActiveAdmins(), 1, `round ${round}: one admin can still sign in`);
      }
    }));
});
