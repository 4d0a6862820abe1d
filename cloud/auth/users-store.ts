import { AppError } from '../../shared/errors.js';
import type { Db } from '../db/open.js';
import { hashPassword } from './passwords.js';

export type Role = 'viewer' | 'operator' | 'admin';
export const ROLE_RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

export interface User {
  username: string;
  password_hash: string;
  role: Role;
  disabled: number;
  created_at: string;
  /** Raised whenever the user's access tokens must stop working (password reset, disabled). */
  token_version: number;
}

/** A change of a user (PATCH /users/{username}); absent fields stay as they are. */
export interface UserChange {
  role?: Role;
  disabled?: boolean;
  password?: string;
}

/** Whether `patch` takes admin rights away from an admin (demotes or disables). */
export function demotes(patch: UserChange): boolean {
  return (patch.role !== undefined && patch.role !== 'admin') || patch.disabled === true;
}

/** Whether `patch` leaves `user`, an admin able to sign in now, no longer one. */
export function losesAdmin(user: Pick<User, 'role' | 'disabled'>, patch: UserChange): boolean {
  return user.role === 'admin' && !user.disabled && demotes(patch);
}

/** The refusal of a second user with a taken name (also when two creations race). */
export const userExists = (username: string) => new AppError('DUPLICATE_RESOURCE', `User ${username} already exists`);

export class SqliteUsersStore {
  private readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  count(): number {
    return this.db.prepare('SELECT COUNT(*) FROM users').pluck().get() as number;
  }

  get(username: string): User | undefined {
    return this.db.prepare('SELECT * FROM users WHERE username = ?').get(username) as User | undefined;
  }

  async create(username: string, password: string, role: Role): Promise<void> {
    const hash = await hashPassword(password);
    const n = this.db
      .prepare('INSERT INTO users (username, password_hash, role, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (username) DO NOTHING')
      .run(username, hash, role, new Date().toISOString()).changes;
    if (n === 0) throw userExists(username);
  }

  /** Every user, without password hashes. */
  list(): Array<Omit<User, 'password_hash'>> {
    return this.db.prepare('SELECT username, role, disabled, created_at, token_version FROM users ORDER BY username').all() as Array<Omit<User, 'password_hash'>>;
  }

  setRole(username: string, role: Role): boolean {
    return this.db.prepare('UPDATE users SET role = ? WHERE username = ?').run(role, username).changes > 0;
  }

  /** Disabling also ends the user's access tokens (token_version + 1). */
  setDisabled(username: string, disabled: boolean): boolean {
    const bump = disabled ? ', token_version = token_version + 1' : '';
    return this.db.prepare(`UPDATE users SET disabled = ?${bump} WHERE username = ?`).run(disabled ? 1 : 0, username).changes > 0;
  }

  /** A new password ends every access token issued with the old one (token_version + 1). */
  async setPassword(username: string, password: string): Promise<boolean> {
    const hash = await hashPassword(password);
    return this.db.prepare('UPDATE users SET password_hash = ?, token_version = token_version + 1 WHERE username = ?').run(hash, username).changes > 0;
  }

  /** Stores a stronger hash of the same password (cost upgrade at sign-in): tokens stay valid. */
  rehash(username: string, hash: string): void {
    this.db.prepare('UPDATE users SET password_hash = ? WHERE username = ?').run(hash, username);
  }

  /**
   * Applies a change of role, disabled state and/or password in one transaction, refusing one
   * that would leave no admin able to sign in ('last-admin', nothing changed). Disabling or a
   * new password ends the user's access tokens (token_version + 1).
   */
  async change(username: string, patch: UserChange): Promise<User | 'not-found' | 'last-admin'> {
    const hash = patch.password === undefined ? undefined : await hashPassword(patch.password);
    return this.db.transaction((): User | 'not-found' | 'last-admin' => {
      const user = this.get(username);
      if (!user) return 'not-found';
      if (losesAdmin(user, patch) && this.countActiveAdmins() <= 1) return 'last-admin';
      if (patch.role !== undefined) this.setRole(username, patch.role);
      if (patch.disabled !== undefined) this.setDisabled(username, patch.disabled);
      if (hash !== undefined) this.db.prepare('UPDATE users SET password_hash = ?, token_version = token_version + 1 WHERE username = ?').run(hash, username);
      return this.get(username)!;
    }).immediate();
  }

  /** Admins that can still sign in (the last one must not be demoted or disabled). */
  countActiveAdmins(): number {
    return this.db.prepare("SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = 0").pluck().get() as number;
  }
}
