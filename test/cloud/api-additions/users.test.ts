import t from 'tap';
import { startTestCloud, event, ADMIN_PASSWORD } from '../helpers.js';

t.test('admins create, list, re-role, disable and re-password users; others get 403', async (t) => {
  const c = await startTestCloud(t);
  const admin = c.adminToken;
  const created = await c.req('/users', { method: 'POST', token: admin, json: { username: 'olga', password: 'operator-pass', role: 'viewer' } });
  t.equal(created.status, 201);
  t.match(await created.json(), { username: 'olga', role: 'viewer', disabled: false });
  t.equal((await c.req('/users', { method: 'POST', token: admin, json: { username: 'olga', password: 'another-pass' } })).status, 409);
  const bad = await c.req('/users', { method: 'POST', token: admin, json: { username: ' bad name', password: 'short', role: 'root', extra: 1 } });
  t.equal(bad.status, 400);
  const bb = await bad.json();
  t.same(bb.errors.map((e: { field: string }) => e.field).sort(), ['extra', 'password', 'role', 'username']);
  const list = await (await c.req('/users', { token: admin })).json();
  t.same(list.items.map((u: { username: string }) => u.username), ['admin', 'olga']);
  t.notOk('password_hash' in list.items[0], 'no hashes in listings');

  const olga = await c.token('olga', 'operator-pass');
  t.equal((await c.req('/users', { token: olga })).status, 403, 'a viewer cannot list users');
  t.match(await (await c.req('/users', { token: olga })).json(), { error_code: 'FORBIDDEN' });
  t.equal((await c.req('/users', { method: 'POST', token: olga, json: { username: 'x1', password: 'whatever-1' } })).status, 403);

  await c.req('/events/ingest', { method: 'POST', key: c.apiKey, json: event('e-role') });
  t.equal((await c.req('/events/e-role', { method: 'PATCH', token: olga, json: { plate_text: 'ABC128' } })).status, 403, 'viewer cannot correct');
  const up = await c.req('/users/olga', { method: 'PATCH', token: admin, json: { role: 'operator' } });
  t.match(await up.json(), { username: 'olga', role: 'operator' });
  t.equal((await c.req('/events/e-role', { method: 'PATCH', token: olga, json: { plate_text: 'ABC128' } })).status, 200, 'the new role applies to the same token');
  t.equal((await c.req('/users/olga', { method: 'PATCH', token: olga, json: { role: 'admin' } })).status, 403, 'an operator cannot promote herself');

  const login = await (await c.req('/auth/login', { method: 'POST', json: { username: 'olga', password: 'operator-pass' } })).json();
  t.match(await (await c.req('/users/olga', { method: 'PATCH', token: admin, json: { disabled: true } })).json(), { disabled: true });
  t.equal((await c.req('/auth/me', { token: olga })).status, 401, 'disabled: tokens stop at once');
  t.equal((await c.req('/auth/token', { method: 'POST', json: { username: 'olga', password: 'operator-pass' } })).status, 401, 'and sign-in fails');
  t.equal((await c.req('/users/olga', { method: 'PATCH', token: admin, json: { disabled: false } })).status, 200);
  t.equal((await c.req('/auth/refresh', { method: 'POST', json: { refresh_token: login.refresh_token } })).status, 401, 'sign-ins from before the disable stay ended');

  t.equal((await c.req('/users/olga', { method: 'PATCH', token: admin, json: { password: 'new-password-1' } })).status, 200);
  t.equal((await c.req('/auth/token', { method: 'POST', json: { username: 'olga', password: 'operator-pass' } })).status, 401, 'old password refused');
  t.ok(await c.token('olga', 'new-password-1'), 'new password works');
  t.equal((await c.req('/users/nobody', { method: 'PATCH', token: admin, json: { role: 'viewer' } })).status, 404);
  t.equal((await c.req('/users/olga', { method: 'PATCH', token: admin, json: {} })).status, 400, 'an empty change is an error');
});

t.test('the last active admin can be neither demoted nor disabled', async (t) => {
  const c = await startTestCloud(t);
  for (const patch of [{ role: 'operator' }, { disabled: true }]) {
    const r = await c.req('/users/admin', { method: 'PATCH', token: c.adminToken, json: patch });
    t.equal(r.status, 400);
    t.match(await r.json(), { error_code: 'VALIDATION_ERROR', errors: [{ message: /last active admin/ }] });
  }
  await c.req('/users', { method: 'POST', token: c.adminToken, json: { username: 'second', password: 'second-admin', role: 'admin' } });
  t.equal((await c.req('/users/admin', { method: 'PATCH', token: c.adminToken, json: { role: 'operator' } })).status, 200, 'with a second admin it can');
  const second = await c.token('second', 'second-admin');
  t.equal((await c.req('/users/second', { method: 'PATCH', token: second, json: { disabled: true } })).status, 400, 'now second is the last one');
  t.ok(await c.token('admin', ADMIN_PASSWORD));
});

t.test('two admins demoting each other at the same moment: one change is refused, an admin is left', async (t) => {
  const c = await startTestCloud(t);
  await c.req('/users', { method: 'POST', token: c.adminToken, json: { username: 'second', password: 'second-admin', role: 'admin' } });
  for (let round = 0; round < 5; round++) {
    const first = await c.token('admin', ADMIN_PASSWORD);
    const second = await c.token('second', 'second-admin');
    const [a, b] = await Promise.all([
      c.req('/users/second', { method: 'PATCH', token: first, json: { role: 'operator' } }),
      c.req('/users/admin', { method: 'PATCH', token: second, json: { disabled: true } }),
    ]);
    // The loser is refused as the last admin (400), or no longer allowed at all (401 disabled, 403 demoted).
    t.equal([a.status, b.status].filter((s) => s === 200).length, 1, `round ${round}: exactly one of the two changes is applied`);
    t.ok([a.status, b.status].every((s) => [200, 400, 401, 403].includes(s)), `round ${round}: the other is refused (${a.status}, ${b.status})`);
    const survivor = a.status === 200 ? first : second;
    const users = ((await (await c.req('/users', { token: survivor })).json()) as { items: Array<{ role: string; disabled: boolean }> }).items;
    t.equal(users.filter((u) => u.role === 'admin' && !u.disabled).length, 1, 'one active admin is left');
    // Both admins again for the next round.
    t.equal((await c.req(a.status === 200 ? '/users/second' : '/users/admin', { method: 'PATCH', token: survivor, json: a.status === 200 ? { role: 'admin' } : { disabled: false } })).status, 200);
  }
});

t.test('edge API keys over HTTP: shown once, listed without the key, revoked at once; admin only', async (t) => {
  const c = await startTestCloud(t);
  const r = await c.req('/api-keys', { method: 'POST', token: c.adminToken, json: { name: 'gate-edge' } });
  t.equal(r.status, 201);
  t.equal(r.headers.get('cache-control'), 'no-store');
  const k = await r.json();
  t.match(k, { id: /^key_/, name: 'gate-edge', key: /^anpr_/, revoked_at: null });
  t.equal(k.prefix, k.key.slice(0, 10));
  t.equal((await c.req('/events/ingest', { method: 'POST', key: k.key, json: event('e-key', { metadata: {} }) })).status, 202, 'the key works');
  const list = await (await c.req('/api-keys', { token: c.adminToken })).json();
  t.same(list.items.map((i: { name: string }) => i.name), ['test-edge', 'gate-edge']);
  t.notOk(JSON.stringify(list).includes(k.key), 'the key is never listed');
  t.equal((await c.req('/api-keys', { method: 'POST', token: c.adminToken, json: { name: '' } })).status, 400);
  const viewer = await c.addUser('v', 'viewer-pass', 'viewer');
  t.equal((await c.req('/api-keys', { token: viewer })).status, 403);
  t.equal((await c.req(`/api-keys/${k.id}`, { method: 'DELETE', token: viewer })).status, 403);
  t.equal((await c.req(`/api-keys/${k.id}`, { method: 'DELETE', token: c.adminToken })).status, 204);
  t.equal((await c.req('/events/ingest', { method: 'POST', key: k.key, json: event('e-key2') })).status, 401, 'revoked key refused');
  t.equal((await c.req(`/api-keys/${k.id}`, { method: 'DELETE', token: c.adminToken })).status, 404, 'already revoked');
  t.ok((await (await c.req('/api-keys', { token: c.adminToken })).json()).items.find((i: { id: string }) => i.id === k.id).revoked_at);
});

t.test('two admins creating the same user at the same moment: one 201, one 409, never a 500', async (t) => {
  const c = await startTestCloud(t);
  const make = () => c.req('/users', { method: 'POST', token: c.adminToken, json: { username: 'twin', password: 'twin-password', role: 'viewer' } });
  const [a, b] = await Promise.all([make(), make()]);
  t.same([a.status, b.status].sort(), [201, 409]);
  t.match(await (a.status === 409 ? a : b).json(), { error_code: 'DUPLICATE_RESOURCE' });
});
