/** Access tokens end with their credentials: exp required, sign-out, password reset, disabling. */
import t from 'tap';
import { sign } from 'hono/jwt';
import { startTestCloud, ADMIN_PASSWORD, type TestCloud } from './helpers.js';

const status = (c: TestCloud, token: string) => c.req('/auth/me', { token }).then((r) => r.status);
const login = async (c: TestCloud, username: string, password: string) => {
  const r = await c.req('/auth/login', { method: 'POST', json: { username, password } });
  if (r.status !== 200) throw new Error(`login ${r.status}`);
  return (await r.json()) as { access_token: string; refresh_token: string };
};

t.test('a token without exp is refused even when correctly signed', async (t) => {
  const c = await startTestCloud(t);
  const now = Math.floor(Date.now() / 1000);
  const claims = { sub: 'admin', role: 'admin', typ: 'access', iat: now, ver: 0 };
  t.equal(await status(c, await sign({ ...claims, exp: now + 60 }, c.ctx.jwtSecret, 'HS256')), 200, 'the same claims with exp pass');
  t.equal(await status(c, await sign(claims, c.ctx.jwtSecret, 'HS256')), 401, 'no exp: refused');
  t.equal(await status(c, await sign({ ...claims, exp: String(now + 60) } as unknown as { exp: number }, c.ctx.jwtSecret, 'HS256')), 401, 'exp not a number: refused');
  const noVer = { sub: 'admin', role: 'admin', typ: 'access', iat: now, exp: now + 60 };
  t.equal(await status(c, await sign(noVer, c.ctx.jwtSecret, 'HS256')), 401, 'no token version: refused');
});

t.test('sign-out ends the access token of that session, not the others', async (t) => {
  const c = await startTestCloud(t);
  const a = await login(c, 'admin', ADMIN_PASSWORD);
  const b = await login(c, 'admin', ADMIN_PASSWORD);
  t.equal(await status(c, a.access_token), 200);
  const out = await c.req('/auth/logout', { method: 'POST', json: { refresh_token: a.refresh_token } });
  t.equal(out.status, 204);
  t.equal(await status(c, a.access_token), 401, 'the signed-out access token stops at once');
  t.equal(await status(c, b.access_token), 200, 'another sign-in of the same user goes on');
  t.equal(await status(c, c.adminToken), 200, 'a /auth/token token is not a session');

  // Signing out with only the access token (the refresh token was lost) ends the session too.
  const byBearer = await c.req('/auth/logout', { method: 'POST', token: b.access_token, json: {} });
  t.equal(byBearer.status, 204);
  t.equal(await status(c, b.access_token), 401);
  t.equal((await c.req('/auth/refresh', { method: 'POST', json: { refresh_token: b.refresh_token } })).status, 401, 'and its refresh token');
});

t.test('an admin password reset ends every access token of that user; the new password works', async (t) => {
  const c = await startTestCloud(t);
  const old = await c.addUser('ops', 'old-password-1', 'operator');
  const session = await login(c, 'ops', 'old-password-1');
  const reset = await c.req('/users/ops', { method: 'PATCH', token: c.adminToken, json: { password: 'new-password-2' } });
  t.equal(reset.status, 200);
  t.equal(await status(c, old), 401, 'a /auth/token token issued before the reset is refused');
  t.equal(await status(c, session.access_token), 401, 'a session token issued before the reset is refused');
  t.equal((await c.req('/auth/token', { method: 'POST', json: { username: 'ops', password: 'old-password-1' } })).status, 401);
  t.equal(await status(c, await c.token('ops', 'new-password-2')), 200, 'a token from the new password works');
  t.equal(await status(c, c.adminToken), 200, 'other users are untouched');
});

t.test('disabling and re-enabling a user does not revive tokens issued before', async (t) => {
  const c = await startTestCloud(t);
  const before = await c.addUser('v', 'viewer-password', 'viewer');
  t.equal((await c.req('/users/v', { method: 'PATCH', token: c.adminToken, json: { disabled: true } })).status, 200);
  t.equal(await status(c, before), 401);
  t.equal((await c.req('/users/v', { method: 'PATCH', token: c.adminToken, json: { disabled: false } })).status, 200);
  t.equal(await status(c, before), 401, 'still refused after re-enabling');
  t.equal(await status(c, await c.token('v', 'viewer-password')), 200, 'a fresh sign-in works');
});
