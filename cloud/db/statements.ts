/**
 * Compiled statements by query text, per connection: the hot paths (API-key checks, heartbeats,
 * config reads, export pages) ran a compile per request, a tenth or more of the loaded cloud's
 * time (bench/healthz-under-load.ts, bench/edge-heartbeats.ts CPU profiles).
 *
 * A statement's mode (`.pluck()`, `.raw()`) sticks to it: a query text must always be used in
 * the same mode.
 */
import type { Statement } from 'better-sqlite3';
import type { Db } from './open.js';

export class StatementCache {
  private readonly statements = new Map<string, Statement>();

  constructor(
    private readonly db: Db,
    private readonly max = 128,
  ) {}

  get(sql: string): Statement {
    let st = this.statements.get(sql);
    if (!st) {
      if (this.statements.size >= this.max) this.statements.clear();
      st = this.db.prepare(sql);
      this.statements.set(sql, st);
    }
    return st;
  }
}
