/**
 * Back-office accounts on PostgreSQL: the same behaviour as SqliteUsersStore
 * (cloud/auth/users-store.ts), with any number of replicas changing users at once.
 *
 * Guarantees:
 * - There is always an admin able to sign in once there was one, whatever runs at once:
 *   `change` that would demote or disable an admin first locks every active admin's row (in
 *   username order, so two such changes never deadlock), then counts them. A second such
 *   change waits for the first to commit and then counts what it left.
 * - Disabling and a new password raise token_version (ending access tokens) in the same
 *   statement as the change; a stronger hash of the same password (`rehash`) does not.
 * - Passwords are hashed (scrypt, cloud/auth/passwords.ts) before any transaction opens: no
 *   lock is held for the length of a hash.
 * - What the database cannot take now is a 503 (cloud/db/pg/transaction.ts `pgFailure`).
 */
import type pg from 'pg';
import { hashPassword } from '../../auth/passwords.js';
import { demotes, losesAdmin, userExists, type Role, type User, type UserChange } from '../../auth/users-store.js';
import { inTransaction } from '../../db/pg/transaction.js';
import type { UsersStore } from '../contracts.js';
import { query, run } from './sql.js';

const COLS = 'username, password_hash, role, disabled, created_at, token_version';
const ACTIVE_ADMINS = "role = 'admin' AND disabled = 0";
const COUNT_ACTIVE_ADMINS = `SELECT COUNT(*) AS n FROM users WHERE ${ACTIVE_ADMINS}`;

export class PgUsersStore implements UsersStore {
  private readonly pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.pool = pool;
  }

  async count(): Promise<number> {
    return (await query<{ n: number }>(this.pool, 'SELECT COUNT(*) AS n FROM users'))[0]!.n;
  }

  async get(username: string): Promise<User | undefined> {
    return (await query<User>(this.pool, `SELECT ${COLS} FROM users WHERE username = $1`, [username]))[0];
  }

  async create(username: string, password: string, role: Role): Promise<void> {
    const hash = await hashPassword(password);
    const n = await run(this.pool, 'INSERT INTO users (username, password_hash, role, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (username) DO NOTHING', [username, hash, role, new Date().toISOString()]);
    if (n === 0) throw userExists(username);
  }

  /** Every user by username (byte order, as SQLite's), without password hashes. */
  async list(): Promise<Array<Omit<User, 'password_hash'>>> {
    return query<Omit<User, 'password_hash'>>(this.pool, 'SELECT username, role, disabled, created_at, token_version FROM users ORDER BY username');
  }

  async setRole(username: string, role: Role): Promise<boolean> {
    return (await run(this.pool, 'UPDATE users SET role = $1 WHERE username = $2', [role, username])) > 0;
  }

  /** Disabling also ends the user's access tokens (token_version + 1). */
  async setDisabled(username: string, disabled: boolean): Promise<boolean> {
    const bump = disabled ? ', token_version = token_version + 1' : '';
    return (await run(this.pool, `UPDATE users SET disabled = $1${bump} WHERE username = $2`, [disabled ? 1 : 0, username])) > 0;
  }

  /** A new password ends every access token issued with the old one (token_version + 1). */
  async setPassword(username: string, password: string): Promise<boolean> {
    const hash = await hashPassword(password);
    return (await run(this.pool, 'UPDATE users SET password_hash = $1, token_version = token_version + 1 WHERE username = $2', [hash, username])) > 0;
  }

  /** Stores a stronger hash of the same password (cost upgrade at sign-in): tokens stay valid. */
  async rehash(username: string, hash: string): Promise<void> {
    await run(this.pool, 'UPDATE users SET password_hash = $1 WHERE username = $2', [hash, username]);
  }

  /**
   * Applies a change of role, disabled state and/or password in one transaction, refusing one
   * that would leave no admin able to sign in ('last-admin', nothing changed). Disabling or a
   * new password ends the user's access tokens (token_version + 1 each).
   */
  async change(username: string, patch: UserChange): Promise<User | 'not-found' | 'last-admin'> {
    const hash = patch.password === undefined ? undefined : await hashPassword(patch.password);
    return inTransaction(this.pool, async (c): Promise<User | 'not-found' | 'last-admin'> => {
      // Before the user's own row, so that every demoting change takes its locks in one order.
      if (demotes(patch)) await c.query(`SELECT 1 FROM users WHERE ${ACTIVE_ADMINS} ORDER BY username FOR UPDATE`);
      const user = (await c.query<User>(`SELECT ${COLS} FROM users WHERE username = $1 FOR UPDATE`, [username])).rows[0];
      if (!user) return 'not-found';
      if (losesAdmin(user, patch) && (await c.query<{ n: number }>(COUNT_ACTIVE_ADMINS)).rows[0]!.n <= 1) return 'last-admin';
      if (patch.role === undefined && patch.disabled === undefined && hash === undefined) return user;
      const bump = (patch.disabled === true ? 1 : 0) + (hash === undefined ? 0 : 1);
      const r = await c.query<User>(
        `UPDATE users SET role = COALESCE($2, role), disabled = COALESCE($3::smallint, disabled), password_hash = COALESCE($4, password_hash),
                token_version = token_version + $5
          WHERE username = $1 RETURNING ${COLS}`,
        [username, patch.role ?? null, patch.disabled === undefined ? null : patch.disabled ? 1 : 0, hash ?? null, bump],
      );
      return r.rows[0]!;
    });
  }

  /** Admins that can still sign in (the last one must not be demoted or disabled). */
  async countActiveAdmins(): Promise<number> {
    return (await query<{ n: number }>(this.pool, COUNT_ACTIVE_ADMINS))[0]!.n;
  }
}
