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
}

export class UsersStore {
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
    this.db
      .prepare('INSERT INTO users (username, password_hash, role, created_at) VALUES (?, ?, ?, ?)')
      .run(username, hash, role, new Date().toISOString());
  }
}
