/**
 * The sign-in throttle's rules (cloud/auth/login-throttle.ts), held on both implementations:
 * the in-process counters of a SQLite cloud and PostgreSQL's, shared by replicas.
 */
import t, { type Test } from 'tap';
import { LoginThrottle, type LoginThrottleOptions, type SignInThrottle } from '../../../cloud/auth/login-throttle.js';
import { PgLoginThrottle } from '../../../cloud/auth/pg-login-throttle.js';
import { postgresBackend } from '../../fixtures/store-backends.js';

/** The in-process throttle (SQLite) and PostgreSQL's (replicas), held to the same answers. */
async function eachThrottle(t: Test, opts: Partial<LoginThrottleOptions>, fn: (t: Test, th: SignInThrottle) => Promise<void>): Promise<void> {
  await t.test('in process', (t) => fn(t, new LoginThrottle(opts)));
  await t.test('postgres', async (t) => fn(t, new PgLoginThrottle((await postgresBackend(t)).pool, opts)));
}

t.test('LoginThrottle: free failures, then a doubling lock up to the cap; success resets', (t) =>
  eachThrottle(t, { freeFailures: 3, accountFreeFailures: 100, baseMs: 1000, maxMs: 8000 }, async (t, th) => {
    let now = 1_000_000;
    for (let i = 0; i < 3; i++) t.equal(await th.begin('u', 'ip1', now), 0, `free attempt ${i + 1}`);
    t.equal(await th.begin('u', 'ip1', now), 0, 'the 4th attempt runs, and locks the account for this address behind it');
    t.equal(await th.begin('u', 'ip1', now), 1000, 'locked for 1 s');
    t.equal(await th.begin('u', 'ip2', now), 0, 'the same account from another address is not locked');
    t.equal(await th.begin('other', 'ip1', now), 0, 'other accounts are not affected');
    const locks: number[] = [];
    for (let i = 0; i < 5; i++) {
      now += 60_000;
      t.equal(await th.begin('u', 'ip1', now), 0);
      locks.push(await th.begin('u', 'ip1', now));
    }
    t.same(locks, [2000, 4000, 8000, 8000, 8000], 'doubles, capped');
    await th.succeeded('u', 'ip1');
    t.equal(await th.begin('u', 'ip1', now), 0, 'a success starts the account afresh');
    t.equal(await th.begin('u', 'ip1', now), 0);
    now += 3_600_001;
    for (let i = 0; i < 4; i++) t.equal(await th.begin('u', 'ip1', now), 0, `an hour later, forgotten: free attempt ${i + 1}`);
    t.equal(await th.begin('u', 'ip1', now), 1000, 'and the first lock again');
  }));

t.test('LoginThrottle: failures spread over addresses lock the account everywhere past the account budget', (t) =>
  eachThrottle(t, { freeFailures: 5, accountFreeFailures: 4, baseMs: 1000 }, async (t, th) => {
    const now = 1_000_000;
    for (let i = 0; i < 5; i++) t.equal(await th.begin('u', `ip${i}`, now), 0, `one guess from ip${i}`);
    t.equal(await th.begin('u', 'fresh-ip', now), 1000, 'the account is locked for every address');
    t.equal(await th.begin('u', 'fresh-ip', now + 1000), 0, 'and opens again when the lock ends');
  }));

t.test('LoginThrottle: parallel guesses are counted one after the other', (t) =>
  eachThrottle(t, { freeFailures: 3, accountFreeFailures: 100, baseMs: 1000 }, async (t, th) => {
    const waits = await Promise.all(Array.from({ length: 8 }, () => th.begin('u', 'ip1', 1_000_000)));
    t.same(waits.filter((w) => w === 0).length, 4, 'three free attempts and the one that locks run; the other four are refused');
  }));
