/**
 * Sign-in throttling per account with backoff, and the password hashes' cost (the per-address
 * limits behind proxies: auth-proxy-limits.test.ts).
 */
import t from 'tap';
import { ONLY_SQLITE, startTestCloud, ADMIN_PASSWORD, signInFrom as signIn } from './helpers.js';
import { hashPassword } from '../../cloud/auth/passwords.js';

t.test('per account: guesses from many addresses lock the account with 429 + Retry-After, even for the right password', async (t) => {
  const c = await startTestCloud(t, { loginThrottle: { accountFreeFailures: 3, baseMs: 30_000 } });
  const wrong = { username: 'admin', password: 'wrong-guess' };
  for (const from of ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5']) t.equal((await signIn(c, wrong, { from })).status, 401, `guess from ${from}`);
  const locked = await signIn(c, { username: 'admin', password: ADMIN_PASSWORD }, { from: '127.0.0.6' });
  t.equal(locked.status, 429, 'locked, whoever asks');
  t.ok(Number(locked.headers.get('retry-after')) > 0 && Number(locked.headers.get('retry-after')) <= 30, 'Retry-After in seconds');
  t.match(await locked.json(), { error_code: 'RATE_LIMIT_EXCEEDED', detail: /account/, retry_after_seconds: Number });
  const token = await signIn(c, { username: 'admin', password: ADMIN_PASSWORD }, { path: '/auth/token' });
  t.equal(token.status, 429, '/auth/token shares the account lock');
  t.equal((await c.req('/auth/me', { token: c.adminToken })).status, 200, 'tokens already issued keep working');
  await c.ctx.users.create('bystander', 'bystander-pw', 'viewer');
  t.equal((await signIn(c, { username: 'bystander', password: 'bystander-pw' }, { from: '127.0.0.2' })).status, 200, 'other accounts sign in');
  const ghost = { username: 'no-such-user', password: 'x' };
  const ghosts = [];
  for (let i = 0; i < 5; i++) ghosts.push((await signIn(c, ghost)).status);
  t.same(ghosts, [401, 401, 401, 401, 429], 'unknown names are throttled alike (no enumeration)');
});

t.test('per account and address: one address guessing locks itself out of the account, not the real user', async (t) => {
  const c = await startTestCloud(t, { loginThrottle: { freeFailures: 3, baseMs: 30_000 } });
  const wrong = { username: 'admin', password: 'wrong-guess' };
  const got = [];
  for (let i = 0; i < 5; i++) got.push((await signIn(c, wrong, { from: '127.0.0.7' })).status);
  t.same(got, [401, 401, 401, 401, 429], 'the guessing address is locked');
  t.equal((await signIn(c, { username: 'admin', password: ADMIN_PASSWORD }, { from: '127.0.0.7' })).status, 429, 'even with the right password');
  t.equal((await signIn(c, { username: 'admin', password: ADMIN_PASSWORD }, { from: '127.0.0.8' })).status, 200, 'the real user elsewhere signs in');
});

t.test('scrypt cost: new hashes use N=2^17; an old hash still verifies and is upgraded at sign-in', { skip: ONLY_SQLITE }, async (t) => {
  const c = await startTestCloud(t);
  t.match((await c.ctx.users.get('admin'))!.password_hash, /^scrypt\$131072\$8\$1\$/);
  const { scrypt, randomBytes } = await import('node:crypto');
  const salt = randomBytes(16);
  const old = await new Promise<Buffer>((res, rej) => scrypt('legacy-password', salt, 32, { N: 16384, r: 8, p: 1 }, (e, k) => (e ? rej(e) : res(k))));
  const oldHash = ['scrypt', 16384, 8, 1, salt.toString('base64url'), old.toString('base64url')].join('$');
  await c.ctx.users.create('legacy', 'placeholder', 'viewer');
  c.ctx.database.sqlite!.db.prepare('UPDATE users SET password_hash = ? WHERE username = ?').run(oldHash, 'legacy');
  const tok = await c.token('legacy', 'legacy-password');
  const upgraded = (await c.ctx.users.get('legacy'))!.password_hash;
  t.match(upgraded, /^scrypt\$131072\$8\$1\$/, 'rehashed with today\'s cost');
  t.equal((await c.req('/auth/me', { token: tok })).status, 200, 'the rehash keeps the session');
  t.equal((await c.req('/auth/token', { method: 'POST', json: { username: 'legacy', password: 'legacy-password' } })).status, 200, 'the upgraded hash verifies');
  t.not(upgraded, await hashPassword('legacy-password'), 'salted');
});
