/**
 * Per-address sign-in limits: behind trusted proxies only the forwarded client counts, an
 * untrusted peer cannot choose its identity, and failed sign-ins never starve an address's
 * session refreshes or sign-outs.
 */
import t from 'tap';
import { startTestCloud, ADMIN_PASSWORD, signInFrom as signIn } from './helpers.js';
import { TrustedProxies } from '../../cloud/auth/trusted-proxies.js';

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
