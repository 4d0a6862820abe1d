/**
 * Sign-in throttling: per account with backoff, per client address behind trusted proxies
 * only, and never at the expense of session refreshes.
 */
import t from 'tap';
import { Agent, fetch as ufetch } from 'undici';
import { ONLY_SQLITE, startTestCloud, ADMIN_PASSWORD, type TestCloud } from './helpers.js';
import { TrustedProxies } from '../../cloud/auth/trusted-proxies.js';
import { hashPassword } from '../../cloud/auth/passwords.js';

/** A sign-in from a given loopback source address, optionally through a proxy header. */
function signIn(c: TestCloud, body: { username: string; password: string }, opts: { from?: string; xff?: string; path?: string } = {}) {
  const dispatcher = new Agent({ localAddress: opts.from ?? '127.0.0.1' });
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (opts.xff) headers['x-forwarded-for'] = opts.xff;
  return ufetch(c.url + (opts.path ?? '/auth/login'), { method: 'POST', headers, body: JSON.stringify(body), dispatcher }).finally(() => dispatcher.close());
}

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

// Hour-long windows: a minute boundary inside the test would reset the count.
t.test('behind a trusted proxy the forwarded client is limited, not everyone behind the proxy', async (t) => {
  const c = await startTestCloud(t, { rateLimits: { auth: 3, windowMs: 3_600_000 }, trustedProxies: ['127.0.0.1'] });
  const wrong = { username: 'attacked', password: 'wrong-guess' };
  const statuses = [];
  for (let i = 0; i < 4; i++) statuses.push((await signIn(c, wrong, { xff: '203.0.113.66' })).status);
  t.same(statuses, [401, 401, 401, 429], 'the attacker hits the address limit');
  const ok = await signIn(c, { username: 'admin', password: ADMIN_PASSWORD }, { xff: '198.51.100.7' });
  t.equal(ok.status, 200, 'another client behind the same proxy signs in');
  const spoof = await signIn(c, { username: 'admin', password: ADMIN_PASSWORD }, { xff: '198.51.100.9, 203.0.113.66' });
  t.equal(spoof.status, 429, 'a forged left-most entry does not move the attacker out of its bucket');

  // An address that is not a trusted proxy cannot choose its identity with the header.
  const d = await startTestCloud(t, { rateLimits: { auth: 3, windowMs: 3_600_000 }, trustedProxies: ['127.0.0.1'] });
  const direct = [];
  for (let i = 0; i < 4; i++) direct.push((await signIn(d, wrong, { from: '127.0.0.9', xff: `198.51.100.${i + 1}` })).status);
  t.same(direct, [401, 401, 401, 429], 'X-Forwarded-For from an untrusted peer is ignored');
});

t.test('failed sign-ins from an address do not starve its session refreshes or sign-outs', async (t) => {
  const c = await startTestCloud(t, { rateLimits: { auth: 3, windowMs: 3_600_000 } });
  const session = await (await c.req('/auth/login', { method: 'POST', json: { username: 'admin', password: ADMIN_PASSWORD } })).json();
  for (let i = 0; i < 4; i++) await c.req('/auth/login', { method: 'POST', json: { username: 'someone', password: 'wrong' } });
  t.equal((await c.req('/auth/login', { method: 'POST', json: { username: 'admin', password: ADMIN_PASSWORD } })).status, 429, 'sign-ins from the address are limited');
  const r = await c.req('/auth/refresh', { method: 'POST', json: { refresh_token: session.refresh_token } });
  t.equal(r.status, 200, 'the refresh still works');
  const next = await r.json();
  t.equal((await c.req('/auth/logout', { method: 'POST', json: { refresh_token: next.refresh_token } })).status, 204, 'and so does sign-out');
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

t.test('TrustedProxies: addresses and CIDRs; bad entries are CONFIG_INVALID', async (t) => {
  const p = TrustedProxies.parse('10.0.0.0/8, ::1,192.168.1.5');
  t.equal(p.clientIp('10.1.2.3', '203.0.113.5, 10.9.9.9'), '203.0.113.5', 'skips trusted hops from the right');
  t.equal(p.clientIp('::ffff:10.1.2.3', '203.0.113.5'), '203.0.113.5', 'IPv4-mapped peer');
  t.equal(p.clientIp('203.0.113.1', '10.0.0.1'), '203.0.113.1', 'untrusted peer: header ignored');
  t.equal(p.clientIp('::1', 'garbage, 203.0.113.5'), '203.0.113.5');
  t.equal(p.clientIp('::1', '203.0.113.5, garbage'), '::1', 'a malformed hop stops at the proxy that saw it');
  t.equal(p.clientIp('192.168.1.5', '10.0.0.2'), '10.0.0.2', 'all trusted: the left-most');
  t.equal(TrustedProxies.parse(undefined).clientIp('127.0.0.1', '1.2.3.4'), '127.0.0.1', 'no setting trusts no one');
  for (const bad of ['10.0.0.0/33', 'proxy.local', '10.0.0.1/8/2', '::1/129', '10.0.0.0/x']) {
    t.throws(() => TrustedProxies.parse(bad), { code: 'CONFIG_INVALID' }, bad);
  }
});
