/**
 * Refresh tokens on PostgreSQL: the same behaviour as SqliteRefreshTokenStore
 * (cloud/auth/refresh-tokens.ts), whose token format, hashing and rotation rules are used as
 * they are, with any number of replicas rotating at once.
 *
 * Guarantees (besides those of cloud/auth/refresh-tokens.ts):
 * - A token is rotated at most once, whichever replicas present it at the same moment: rotate
 *   reads its row FOR UPDATE, so a second use waits for the first to commit, then finds the
 *   token used, and ends the family (reuse) instead of making a second successor.
 * - A reuse's revocation commits although rotate then rejects (401).
 * - Only sha256(secret) is stored. What the database cannot take now is a 503
 *   (cloud/db/pg/transaction.ts `pgFailure`), never a half-made rotation.
 */
import type pg from 'pg';
import {
  SWEEP_AFTER_MS,
  invalidRefreshToken,
  newFamilyId,
  newRefreshToken,
  parseRefreshToken,
  refreshTokenReused,
  rotationVerdict,
  secretMatches,
  type IssuedRefresh,
  type RefreshTokenRow,
} from '../../auth/refresh-tokens.js';
import { inTransaction } from '../../db/pg/transaction.js';
import type { RefreshTokenStore } from '../contracts.js';
import { query, run } from './sql.js';

const COLS = 'id, family_id, username, token_hash, created_at, expires_at, used_at, revoked_at';
const INSERT = 'INSERT INTO refresh_tokens (id, family_id, username, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)';
const insertParams = (r: RefreshTokenRow) => [r.id, r.family_id, r.username, r.token_hash, r.created_at, r.expires_at];

type Rotated = { username: string; next: IssuedRefresh; familyId: string };

export class PgRefreshTokenStore implements RefreshTokenStore {
  private readonly pool: pg.Pool;
  readonly ttlMs: number;

  constructor(pool: pg.Pool, ttlMs: number) {
    this.pool = pool;
    this.ttlMs = ttlMs;
  }

  /** Starts a new family (a sign-in); drops rows expired for a day in the same statement. */
  async issue(username: string, now = Date.now()): Promise<IssuedRefresh & { familyId: string }> {
    const familyId = newFamilyId();
    const { issued, row } = newRefreshToken(username, familyId, now, this.ttlMs);
    await run(this.pool, `WITH swept AS (DELETE FROM refresh_tokens WHERE expires_at < $7) ${INSERT}`, [...insertParams(row), now - SWEEP_AFTER_MS]);
    return { ...issued, familyId };
  }

  /**
   * Consumes a token and returns its successor. Throws 401 for anything unknown, expired,
   * revoked or reused; reuse revokes the family first.
   */
  async rotate(token: string, now = Date.now()): Promise<Rotated> {
    const t = parseRefreshToken(token);
    if (!t) throw invalidRefreshToken();
    // The transaction returns instead of throwing so that a reuse's revocation commits.
    const r = await inTransaction(this.pool, async (c): Promise<Rotated | 'invalid' | 'reused'> => {
      // FOR UPDATE: a concurrent rotation of this token waits here and then sees it used.
      const row = (await c.query<RefreshTokenRow>(`SELECT ${COLS} FROM refresh_tokens WHERE id = $1 FOR UPDATE`, [t.id])).rows[0];
      const verdict = rotationVerdict(row, t.secret, now);
      if (verdict === 'invalid') return 'invalid';
      if (verdict === 'reused') {
        await c.query('UPDATE refresh_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL', [now, row!.family_id]);
        return 'reused';
      }
      const next = newRefreshToken(row!.username, row!.family_id, now, this.ttlMs);
      await c.query('UPDATE refresh_tokens SET used_at = $1 WHERE id = $2', [now, row!.id]);
      await c.query(INSERT, insertParams(next.row));
      return { username: row!.username, familyId: row!.family_id, next: next.issued };
    });
    if (r === 'invalid') throw invalidRefreshToken();
    if (r === 'reused') throw refreshTokenReused();
    return r;
  }

  /** Signs out the family of a token (if the token is genuine); returns its family when it was. */
  async revokeByToken(token: string, now = Date.now()): Promise<string | null> {
    const t = parseRefreshToken(token);
    if (!t) return null;
    const row = (await query<RefreshTokenRow>(this.pool, `SELECT ${COLS} FROM refresh_tokens WHERE id = $1`, [t.id]))[0];
    if (!row || !secretMatches(row.token_hash, t.secret)) return null;
    await this.revokeFamily(row.family_id, now);
    return row.family_id;
  }

  /** Whether a sign-in (family) is still on: its access tokens die with it. */
  async familyActive(familyId: string): Promise<boolean> {
    return (await query(this.pool, 'SELECT 1 FROM refresh_tokens WHERE family_id = $1 AND revoked_at IS NULL LIMIT 1', [familyId])).length > 0;
  }

  async revokeFamily(familyId: string, now = Date.now()): Promise<void> {
    await run(this.pool, 'UPDATE refresh_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL', [now, familyId]);
  }

  /** Ends every session of a user (disabled, password changed); returns how many tokens it revoked. */
  async revokeUser(username: string, now = Date.now()): Promise<number> {
    return run(this.pool, 'UPDATE refresh_tokens SET revoked_at = $1 WHERE username = $2 AND revoked_at IS NULL', [now, username]);
  }
}
