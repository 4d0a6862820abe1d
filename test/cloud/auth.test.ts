import t from 'tap';
import { sign } from 'hono/jwt';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ONLY_SQLITE, startTestCloud, ADMIN_PASSWORD } from './helpers.js';
import { hashPassword, verifyPassword } from '../../cloud/auth/passwords.js';

t.test('POST /auth/token: JWT with exp/iat; 401 with detail on bad credentials', async (t) => {
  const c = await startTestCloud(t);
  const r = await c.req('/auth/token', { method: 'POST', json: { username: 'admin', password: ADMIN_PASSWORD } });
  t.equal(r.status, 200);
  const b = await r.json();
  t.equal(b.token_type, 'bearer');
  t.equal(b.expires_in, 3600);
  const [h, p] = b.access_token.split('.').slice(0, 2).map((s: string) => JSON.parse(Buffer.from(s, 'base64url').toString()));
  t.equal(h.alg, 'HS256');
  t.equal(p.sub, 'admin');
  t.equal(p.exp - p.iat, 3600);
  for (const body of [{ username: 'admin', password: 'wrong' }, { username: 'nobody', password: ADMIN_PASSWORD }]) {
    const bad = await c.req('/auth/token', { method: 'POST', json: body });
    t.equal(bad.status, 401);
    t.match(await bad.json(), { detail: 'Invalid credentials', error_code: 'AUTHENTICATION_FAILED' });
  }
  const missing = await c.req('/auth/token', { method: 'POST', json: { username: 'admin' } });
  t.equal(missing.status, 400);
  t.same((await missing.json()).errors, [{ field: 'password', message: 'password is required' }]);
});

t.test('tokens: algorithm pinned, signature, expiry and disabled users are all checked', { skip: ONLY_SQLITE }, async (t) => {
  const c = await startTestCloud(t);
  const secret = c.ctx.jwtSecret;
  const now = Math.floor(Date.now() / 1000);
  const ok = (tok: string) => c.req('/config/cameras', { token: tok }).then((r) => r.status);
  t.equal(await ok(c.adminToken), 200);
  const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'admin', role: 'admin', typ: 'access', iat: now, exp: now + 60 })).toString('base64url')}.`;
  t.equal(await ok(none), 401, 'alg none refused');
  t.equal(await ok(await sign({ sub: 'admin', role: 'admin', typ: 'access', iat: now, exp: now + 60 }, secret, 'HS512')), 401, 'other algorithm refused');
  t.equal(await ok(await sign({ sub: 'admin', role: 'admin', typ: 'access', iat: now, exp: now + 60 }, 'another-secret-another-secret-xx', 'HS256')), 401, 'wrong key');
  t.equal(await ok(await sign({ sub: 'admin', role: 'admin', typ: 'access', iat: now - 7200, exp: now - 3600 }, secret, 'HS256')), 401, 'expired');
  t.equal(await ok(await sign({ sub: 'ghost', role: 'admin', typ: 'access', iat: now, exp: now + 60 }, secret, 'HS256')), 401, 'unknown user');
  const viewer = await c.addUser('v', 'viewer-password', 'viewer');
  t.equal(await ok(viewer), 200);
  c.ctx.database.sqlite!.db.prepare('UPDATE users SET disabled = 1 WHERE username = ?').run('v');
  t.equal(await ok(viewer), 401, 'a disabled user is refused at once');
  const malformed = await c.req('/config/cameras', { headers: { authorization: 'Token abc' } });
  t.equal(malformed.status, 401);
});

t.test('passwords are stored as scrypt hashes', async (t) => {
  const c = await startTestCloud(t);
  const row = (await c.ctx.users.get('admin'))!;
  t.match(row.password_hash, /^scrypt\$131072\$8\$1\$/, 'OWASP cost: N=2^17, r=8, p=1');
  t.notMatch(row.password_hash, ADMIN_PASSWORD);
  t.ok(await verifyPassword(ADMIN_PASSWORD, row.password_hash));
  t.notOk(await verifyPassword('x', await hashPassword('y')));
});

t.test('JWT secret: generated once into the data dir with mode 0600, or taken from ANPR_JWT_SECRET', async (t) => {
  const c = await startTestCloud(t);
  const file = join(c.dataDir, 'jwt-secret');
  t.equal(statSync(file).mode & 0o777, 0o600);
  t.equal(readFileSync(file, 'utf8').trim(), c.ctx.jwtSecret);
  const e = await startTestCloud(t, { env: { ANPR_ADMIN_PASSWORD: ADMIN_PASSWORD, ANPR_JWT_SECRET: 'x'.repeat(40) } });
  t.equal(e.ctx.jwtSecret, 'x'.repeat(40));
  await t.rejects(startTestCloud(t, { env: { ANPR_JWT_SECRET: 'short' } }), { code: 'CONFIG_INVALID' });
});
