/**
 * The registry of edges (gate boxes): an edge exists from the moment a key is made for it
 * (`anpr apikey create EDGE_ID`, `POST /api-keys`) or an admin registers it (`POST /edges`),
 * until an admin deletes it, which revokes its keys in the same transaction.
 *
 * A site's first edge adopts the cameras that have no edge yet (a one-box site created its
 * cameras before it had a key): with one edge there is nothing to guess. With several, a
 * camera without an edge stays unassigned until an admin assigns it.
 */
import type { Db } from '../db/open.js';
import { StatementCache } from '../db/statements.js';
import { AppError } from '../../shared/errors.js';
import { SAFE_ID } from '../../shared/schemas/common.js';

export interface EdgeRecord {
  id: string;
  name: string;
  created_at: string;
  /** The installation heard last, null before the first heartbeat. */
  instance_id: string | null;
  /** Cloud clock (ms) of the last accepted heartbeat, null when never heard. */
  last_seen_at: number | null;
  /** The last accepted heartbeat body (JSON text), null when never heard. */
  heartbeat: string | null;
}

const COLS = 'id, name, created_at, instance_id, last_seen_at, heartbeat';

/** Throws the API's 400 (field `edge_id`) unless `id` can be an edge id (SAFE_ID). */
export function checkEdgeId(id: string): void {
  if (!SAFE_ID.test(id)) {
    throw new AppError('VALIDATION_ERROR', 'Validation error', {
      errors: [{ field: 'edge_id', message: 'edge_id: must be 1-128 characters of A-Z a-z 0-9 . _ : - and start with a letter or digit' }],
    });
  }
}

export class SqliteEdgesStore {
  private readonly sql: StatementCache;

  constructor(private readonly db: Db) {
    this.sql = new StatementCache(db);
  }

  get(id: string): EdgeRecord | undefined {
    return this.sql.get(`SELECT ${COLS} FROM edges WHERE id = ?`).get(id) as EdgeRecord | undefined;
  }

  list(): EdgeRecord[] {
    return this.sql.get(`SELECT ${COLS} FROM edges ORDER BY id`).all() as EdgeRecord[];
  }

  count(): number {
    return this.sql.get('SELECT COUNT(*) FROM edges').pluck().get() as number;
  }

  /** The edge's ids when exactly one edge is registered, else null. */
  soleEdge(): string | null {
    const ids = this.sql.get('SELECT id FROM edges LIMIT 2').pluck().all() as string[];
    return ids.length === 1 ? ids[0]! : null;
  }

  /**
   * Registers `id` if it is new (returns true), in the caller's transaction when there is one.
   * The first edge of a site adopts the cameras without one.
   */
  ensure(id: string, name?: string): boolean {
    checkEdgeId(id);
    return this.db.transaction(() => {
      if (this.get(id)) return false;
      this.sql.get('INSERT INTO edges (id, name, created_at) VALUES (?, ?, ?)').run(id, name ?? id, new Date().toISOString());
      if (this.count() === 1) {
        this.sql.get(`UPDATE config_items SET edge_id = ?, body = json_set(body, '$.edge_id', ?) WHERE kind = 'cameras' AND edge_id IS NULL`)
          .run(id, id);
      }
      return true;
    })();
  }

  /**
   * Writes the last accepted heartbeat of `id` (the status tracker calls it throttled,
   * cloud/edges/edge-health.ts). Returns false when the edge no longer exists.
   */
  saveHeartbeat(id: string, instanceId: string | null, lastSeenAt: number | null, heartbeat: string | null): boolean {
    return this.sql.get('UPDATE edges SET instance_id = ?, last_seen_at = ?, heartbeat = ? WHERE id = ?').run(instanceId, lastSeenAt, heartbeat, id).changes > 0;
  }

  rename(id: string, name: string): boolean {
    return this.sql.get('UPDATE edges SET name = ? WHERE id = ?').run(name, id).changes > 0;
  }

  /**
   * Deletes the edge and revokes its keys; its cameras are left without an edge (they stop being
   * captured by anyone) and its own exporters are deleted with it. Returns false when unknown.
   */
  delete(id: string): boolean {
    return this.db.transaction(() => {
      if (!this.get(id)) return false;
      const now = new Date().toISOString();
      this.sql.get('UPDATE api_keys SET revoked_at = ? WHERE edge_id = ? AND revoked_at IS NULL').run(now, id);
      this.sql.get(`UPDATE config_items SET edge_id = NULL, body = json_set(body, '$.edge_id', json('null')), updated_at = ? WHERE kind = 'cameras' AND edge_id = ?`)
        .run(now, id);
      this.sql.get(`DELETE FROM config_items WHERE kind = 'exporters' AND edge_id = ?`).run(id);
      this.sql.get('DELETE FROM edges WHERE id = ?').run(id);
      return true;
    }).immediate();
  }
}
