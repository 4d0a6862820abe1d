/**
 * The RefreshTokenStore contract (cloud/store/contracts.ts) on both backends:
 * SqliteRefreshTokenStore and PgRefreshTokenStore rotate, detect reuse, revoke and sweep alike,
 * store only hashes, and a token rotated twice at once on PostgreSQL (really at once, through
 * the pool) gets one successor, the second use ending the family.
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { SWEEP_AFTER_MS, SqliteRefreshTokenStore } from '../../../cloud/auth/refresh-tokens.js';
import { asyncView } from '../../../cloud/store/async-view.js';
import type { RefreshTokenStore } from '../../../cloud/store/contracts.js';
import { PgRefreshTokenStore } from '../../../cloud/store/pg/pg-refresh-tokens-store.js';
import { atOnce, eachBackend, rows, type Backend } from '../../fixtures/store-backends.js';

const TTL = 3_600_000;
const NOW = 1_700_000_000_000;
const INVALID = { code: 'AUTHENTICATION_FAILED', status: 401, message: 'Invalid or expired refresh token' };
const REUSED = { code: 'AUTHENTICATION_FAILED', status: 401, message: 'Refresh token reuse detected; every session of this sign-in was ended' };

const tokensOf = (b: Backend): RefreshTokenStore =>
  b.kind === 'sqlite' ? asyncView(new SqliteRefreshTokenStore(b.db, TTL)) : new PgRefreshTokenStore(b.pool, TTL);

const addUser = (b: Backend, username: string) => rows(b, "INSERT INTO users (username, password_hash, role, created_at) VALUES (?, 'x', 'viewer', '2024-01-01T00:00:00.000Z')", [username]);
const idOf = (token: string) => token.slice(3, token.indexOf('.'));

t.test('RefreshTokenStore contract, on SQLite and PostgreSQL', async (t) => {
  t.test('issue and rotate: a successor per use, only hashes at rest', (t) =>
    eachBackend(t, async (t, b) => {
      const tokens = tokensOf(b);
      await addUser(b, 'ann');
      t.equal(tokens.ttlMs, TTL);
      const first = await tokens.issue('ann', NOW);
      t.match(first.token, /^rt_[A-Za-z0-9_-]{12}\.[A-Za-z0-9_-]{43}$/);
      t.equal(first.expiresAt, NOW + TTL);
      t.match(first.familyId, /^[A-Za-z0-9_-]{12}$/);
      const [row] = await rows(b, 'SELECT * FROM refresh_tokens WHERE id = ?', [idOf(first.token)]);
      const secret = first.token.slice(first.token.indexOf('.') + 1);
      t.same(row, {
        id: idOf(first.token), family_id: first.familyId, username: 'ann', token_hash: createHash('sha256').update(secret).digest('hex'),
        created_at: NOW, expires_at: NOW + TTL, used_at: null, revoked_at: null,
      }, 'the row holds sha256(secret), times as numbers');
      t.notOk(JSON.stringify(await rows(b, 'SELECT * FROM refresh_tokens')).includes(secret), 'never the secret');
      t.equal(await tokens.familyActive(first.familyId), true);

      const r = await tokens.rotate(first.token, NOW + 1000);
      t.equal(r.username, 'ann');
      t.equal(r.familyId, first.familyId, 'the successor is of the same family');
      t.not(r.next.token, first.token);
      t.equal(r.next.expiresAt, NOW + 1000 + TTL);
      t.match(await rows(b, 'SELECT used_at, revoked_at FROM refresh_tokens WHERE id = ?', [idOf(first.token)]), [{ used_at: NOW + 1000, revoked_at: null }], 'the used token is marked');
      const r2 = await tokens.rotate(r.next.token, NOW + 2000);
      t.equal(r2.familyId, first.familyId, 'and the successor rotates in turn');
      t.equal((await rows<{ n: number }>(b, 'SELECT COUNT(*) AS n FROM refresh_tokens WHERE family_id = ?', [first.familyId]))[0]!.n, 3);
      const other = await tokens.issue('ann', NOW);
      t.not(other.familyId, first.familyId, 'each sign-in is a family of its own');
    }));

  t.test('reuse ends the family; a wrong, unknown, expired or revoked token is only refused', (t) =>
    eachBackend(t, async (t, b) => {
      const tokens = tokensOf(b);
      await addUser(b, 'ann');
      const stolen = await tokens.issue('ann', NOW);
      const r = await tokens.rotate(stolen.token, NOW + 1);
      await t.rejects(tokens.rotate(stolen.token, NOW + 2), REUSED);
      t.equal(await tokens.familyActive(stolen.familyId), false, 'the revocation committed although rotate rejected');
      await t.rejects(tokens.rotate(r.next.token, NOW + 3), INVALID, "the legitimate holder's token ended too");

      const ok = await tokens.issue('ann', NOW);
      await t.rejects(tokens.rotate(`rt_${idOf(ok.token)}.${'A'.repeat(43)}`, NOW + 1), INVALID, 'wrong secret');
      t.equal(await tokens.familyActive(ok.familyId), true, 'a wrong secret revokes nothing');
      for (const bad of ['', 'nope', 'rt_x.short', `rt_${'a'.repeat(33)}.${'b'.repeat(43)}`, `rt_unknown.${'a'.repeat(43)}`]) {
        await t.rejects(tokens.rotate(bad, NOW), INVALID, `refused: ${JSON.stringify(bad.slice(0, 20))}`);
      }
      await t.rejects(tokens.rotate(ok.token, NOW + TTL), INVALID, 'expired at expiresAt');
      t.equal(await tokens.familyActive(ok.familyId), true, 'expiry revokes nothing');
      t.ok(await tokens.rotate(ok.token, NOW + TTL - 1), 'valid until just before');

      const ended = await tokens.issue('ann', NOW);
      await tokens.revokeFamily(ended.familyId, NOW + 1);
      await t.rejects(tokens.rotate(ended.token, NOW + 2), INVALID, 'revoked');
    }));

  t.test('revokeByToken, revokeFamily, revokeUser and the sweep of expired rows', (t) =>
    eachBackend(t, async (t, b) => {
      const tokens = tokensOf(b);
      await addUser(b, 'ann');
      await addUser(b, 'bob');
      const a = await tokens.issue('ann', NOW);
      t.equal(await tokens.revokeByToken('garbage', NOW), null);
      t.equal(await tokens.revokeByToken(`rt_${idOf(a.token)}.${'A'.repeat(43)}`, NOW), null, 'not genuine: nothing');
      t.equal(await tokens.revokeByToken(`rt_unknown.${'a'.repeat(43)}`, NOW), null);
      t.equal(await tokens.familyActive(a.familyId), true);
      t.equal(await tokens.revokeByToken(a.token, NOW + 5), a.familyId, 'genuine: its family');
      t.equal(await tokens.familyActive(a.familyId), false);
      t.match(await rows(b, 'SELECT revoked_at FROM refresh_tokens WHERE id = ?', [idOf(a.token)]), [{ revoked_at: NOW + 5 }]);
      t.equal(await tokens.revokeByToken(a.token, NOW + 6), a.familyId, 'again: still its family');
      t.match(await rows(b, 'SELECT revoked_at FROM refresh_tokens WHERE id = ?', [idOf(a.token)]), [{ revoked_at: NOW + 5 }], 'revoked once');

      const b1 = await tokens.issue('bob', NOW);
      await tokens.rotate(b1.token, NOW + 1);
      const b2 = await tokens.issue('bob', NOW);
      const a2 = await tokens.issue('ann', NOW);
      t.equal(await tokens.revokeUser('bob', NOW + 2), 3, 'every unrevoked row of the user');
      t.equal(await tokens.revokeUser('bob', NOW + 3), 0);
      t.equal(await tokens.revokeUser('nobody', NOW + 3), 0);
      t.equal(await tokens.familyActive(b1.familyId), false);
      t.equal(await tokens.familyActive(b2.familyId), false);
      t.equal(await tokens.familyActive(a2.familyId), true, "another user's sessions stay");
      await tokens.revokeFamily('no-such-family', NOW);
      t.equal(await tokens.familyActive('no-such-family'), false);

      // Expired for more than a day: dropped at the next issue; expired for less: kept (reuse is still told).
      const old = await tokens.issue('ann', NOW - TTL - SWEEP_AFTER_MS - 1);
      const recent = await tokens.issue('ann', NOW - TTL - SWEEP_AFTER_MS + 1);
      await tokens.issue('ann', NOW);
      t.same(await rows(b, 'SELECT id FROM refresh_tokens WHERE id = ?', [idOf(old.token)]), [], 'swept');
      t.equal((await rows(b, 'SELECT id FROM refresh_tokens WHERE id = ?', [idOf(recent.token)])).length, 1, 'kept');
    }));

  t.test('a token rotated twice at once gets one successor, and the second use ends the family', (t) =>
    eachBackend(t, async (t, b) => {
      const tokens = tokensOf(b);
      await addUser(b, 'ann');
      const i = await tokens.issue('ann', NOW);
      const results = await atOnce(b, { sql: 'SELECT 1 FROM refresh_tokens WHERE id = $1 FOR UPDATE', params: [idOf(i.token)], waiters: 2 }, () => [
        tokens.rotate(i.token, NOW + 1),
        tokens.rotate(i.token, NOW + 2),
      ]);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      t.equal(won.length, 1, 'one rotation');
      t.equal(lost.length, 1, 'one refusal');
      t.match(lost[0]?.reason, REUSED, 'as a reuse');
      t.equal((await rows<{ n: number }>(b, 'SELECT COUNT(*) AS n FROM refresh_tokens WHERE family_id = ?', [i.familyId]))[0]!.n, 2, 'a single successor');
      t.equal(await tokens.familyActive(i.familyId), false, 'the family ended');
      const next = (won[0] as PromiseFulfilledResult<{ next: { token: string } }>).value.next.token;
      await t.rejects(tokens.rotate(next, NOW + 3), INVALID);
    }));
});
