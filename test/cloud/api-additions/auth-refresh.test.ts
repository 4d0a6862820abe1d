import t from 'tap';
import { startTestCloud, ADMIN_PASSWORD } from '../helpers.js';

const cookieOf = (r: Response) => r.headers.getSetCookie().find((c) => c.startsWith('anpr_refresh=')) ?? '';

t.test('login gives an access token and a refresh token, also as an HttpOnly SameSite=Strict cookie on /auth', async (t) => {
  const c = await startTestCloud(t);
  const r = await c.req('/auth/login', { method: 'POST', json: { username: 'admin', password: ADMIN_PASSWORD } });
  t.equal(r.status, 200);
  t.equal(r.headers.get('cache-control'), 'no-store');
  const b = await r.json();
  t.match(b, { token_type: 'bearer', expires_in: 3600, refresh_expires_in: 14 * 86400, user: { username: 'admin', role: 'admin' } });
  t.match(b.refresh_token, /^rt_/);
  const cookie = cookieOf(r);
  t.ok(cookie.includes(`anpr_refresh=${b.refresh_token}`), 'cookie carries the refresh token');
  t.match(cookie, /HttpOnly/);
  t.match(cookie, /SameSite=Strict/);
  t.match(cookie, /Path=\/auth/);
  t.notMatch(cookie, /Secure/, 'not Secure over plain http');
  const me = await c.req('/auth/me', { token: b.access_token });
  t.same(await me.json(), { username: 'admin', role: 'admin', disabled: false, created_at: (await c.ctx.users.get('admin'))!.created_at });

  const bad = await c.req('/auth/login', { method: 'POST', json: { username: 'admin', password: 'wrong' } });
  t.equal(bad.status, 401);
  t.match(await bad.json(), { error_code: 'AUTHENTICATION_FAILED', detail: 'Invalid credentials', request_id: /^req-/ });
  t.equal((await c.req('/auth/login', { method: 'POST', body: 'username=admin' })).status, 415);
  const v = await c.req('/auth/login', { method: 'POST', json: { username: 'admin' } });
  t.equal(v.status, 400);
  t.match(await v.json(), { error_code: 'VALIDATION_ERROR', errors: [{ field: 'password' }] });
});

t.test('refresh rotates: each token works once, and reusing one ends the whole sign-in', async (t) => {
  const c = await startTestCloud(t);
  const login = await (await c.req('/auth/login', { method: 'POST', json: { username: 'admin', password: ADMIN_PASSWORD } })).json();
  const r1 = await c.req('/auth/refresh', { method: 'POST', json: { refresh_token: login.refresh_token } });
  t.equal(r1.status, 200);
  const b1 = await r1.json();
  t.not(b1.refresh_token, login.refresh_token, 'a new refresh token');
  t.equal((await c.req('/auth/me', { token: b1.access_token })).status, 200, 'the new access token works');

  const r2 = await c.req('/auth/refresh', { method: 'POST', json: { refresh_token: b1.refresh_token } });
  t.equal(r2.status, 200, 'the successor works once');
  const b2 = await r2.json();

  // An attacker replays the first (already used) token: reuse.
  const replay = await c.req('/auth/refresh', { method: 'POST', json: { refresh_token: login.refresh_token } });
  t.equal(replay.status, 401);
  t.match(await replay.json(), { error_code: 'AUTHENTICATION_FAILED', detail: /reuse/ });
  t.match(cookieOf(replay), /anpr_refresh=;|Max-Age=0/, 'cookie cleared');
  const after = await c.req('/auth/refresh', { method: 'POST', json: { refresh_token: b2.refresh_token } });
  t.equal(after.status, 401, 'the newest token of the family is revoked too');

  // Another sign-in is a separate family and still works.
  const other = await (await c.req('/auth/login', { method: 'POST', json: { username: 'admin', password: ADMIN_PASSWORD } })).json();
  t.equal((await c.req('/auth/refresh', { method: 'POST', json: { refresh_token: other.refresh_token } })).status, 200);

  for (const bad of ['nonsense', 'rt_abc.' + 'x'.repeat(43), other.refresh_token.slice(0, -2) + 'zz']) {
    const r = await c.req('/auth/refresh', { method: 'POST', json: { refresh_token: bad } });
    t.equal(r.status, 401, `forged token ${bad.slice(0, 12)}… refused`);
  }
});

t.test('the browser flow: refresh and logout by cookie alone; JSON requests only', async (t) => {
  const c = await startTestCloud(t);
  const l = await c.req('/auth/login', { method: 'POST', json: { username: 'admin', password: ADMIN_PASSWORD } });
  let cookie = cookieOf(l).split(';')[0]!;
  const r = await c.req('/auth/refresh', { method: 'POST', headers: { cookie, 'content-type': 'application/json' } });
  t.equal(r.status, 200);
  const b = await r.json();
  const next = cookieOf(r).split(';')[0]!;
  t.equal(next, `anpr_refresh=${b.refresh_token}`, 'the cookie is rotated with the token');
  t.equal((await c.req('/auth/refresh', { method: 'POST', headers: { cookie: next, 'content-type': 'text/plain' } })).status, 415, 'a form post cannot refresh');
  t.equal((await c.req('/auth/refresh', { method: 'POST', json: {} })).status, 401, 'no token, no refresh');
  cookie = next;
  const out = await c.req('/auth/logout', { method: 'POST', headers: { cookie, 'content-type': 'application/json' } });
  t.equal(out.status, 204);
  t.match(cookieOf(out), /Max-Age=0/);
  t.equal((await c.req('/auth/refresh', { method: 'POST', headers: { cookie, 'content-type': 'application/json' } })).status, 401, 'signed out');
});

t.test('refresh tokens stop at expiry and when the user is disabled; /auth/me needs a user token', async (t) => {
  const c = await startTestCloud(t);
  await c.ctx.users.create('vic', 'viewer-password', 'viewer');
  const l = await (await c.req('/auth/login', { method: 'POST', json: { username: 'vic', password: 'viewer-password' } })).json();
  t.equal(l.user.role, 'viewer');
  t.match(await (await c.req('/auth/me', { token: l.access_token })).json(), { username: 'vic', role: 'viewer' });
  await t.rejects(c.ctx.refreshTokens.rotate(l.refresh_token, Date.now() + c.ctx.refreshTokens.ttlMs + 1), { code: 'AUTHENTICATION_FAILED' }, 'expired');
  const r = await (await c.req('/auth/refresh', { method: 'POST', json: { refresh_token: l.refresh_token } })).json();
  await c.ctx.users.setDisabled('vic', true);
  t.equal((await c.req('/auth/refresh', { method: 'POST', json: { refresh_token: r.refresh_token } })).status, 401, 'disabled user cannot refresh');
  t.equal((await c.req('/auth/me', { token: r.access_token })).status, 401, 'nor use the access token');
  t.equal((await c.req('/auth/me')).status, 401);
  t.equal((await c.req('/auth/me', { key: c.apiKey })).status, 401, 'API keys are not users');
});

t.test('the additions are in the OpenAPI document', async (t) => {
  const c = await startTestCloud(t);
  const d = await (await c.req('/openapi.json')).json();
  for (const [p, m] of [
    ['/auth/login', 'post'],
    ['/auth/refresh', 'post'],
    ['/auth/logout', 'post'],
    ['/auth/me', 'get'],
    ['/users', 'get'],
    ['/users', 'post'],
    ['/users/{username}', 'patch'],
    ['/api-keys', 'post'],
    ['/api-keys/{id}', 'delete'],
    ['/events/export', 'get'],
    ['/events/{id}', 'patch'],
    ['/events/{id}/correction', 'get'],
    ['/config/cameras/{id}/snapshot', 'get'],
    ['/recognize', 'post'],
  ] as const) {
    t.ok(d.paths[p]?.[m], `${m.toUpperCase()} ${p} documented`);
  }
  t.same(Object.keys(d.paths['/users'].post.responses['400'].content['application/json'].schema), ['$ref'], 'errors use the contract error body');
});
