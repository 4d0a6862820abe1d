/**
 * The registry of edges on PostgreSQL: the same behaviour as SqliteEdgesStore
 * (cloud/edges/edges-store.ts), with any number of replicas writing at once.
 *
 * Guarantees:
 * - Each method is one transaction (or one statement); a failure changes nothing, and what
 *   the database cannot take now is a 503 (cloud/db/pg/transaction.ts `pgFailure`).
 * - `ensure` of one new id from several replicas at once registers it once: one call returns
 *   true, the others false, none fails.
 * - Only a site's first edge adopts the cameras without an edge, however many edges are
 *   registered at once: registering a new edge holds the transaction-level advisory lock
 *   (ANPR_LOCK_SPACE, EDGE_REGISTRATION_LOCK_ID), so each one counts the edges committed
 *   before it, as SQLite's single writer does.
 * - `delete` locks the edge's row first, so a key created for the edge at the same moment
 *   (PgApiKeysStore.create, which share-locks that row) is either revoked with it or made for
 *   the edge registered anew after it: never a live key of a deleted edge.
 * - Camera bodies keep their `edge_id` field equal to the `edge_id` column; SQLite edits the
 *   body with json_set, here it is parsed, set and written back as JSON text (the schema keeps
 *   JSON as text, cloud/db/pg/migrations.ts), which gives the same text for a body the store
 *   wrote with JSON.stringify.
 */
import type pg from 'pg';
import { ANPR_LOCK_SPACE } from '../../db/pg/partitions.js';
import { inTransaction } from '../../db/pg/transaction.js';
import { checkEdgeId, type EdgeRecord } from '../../edges/edges-store.js';
import type { EdgesStore } from '../contracts.js';
import { query, run } from './sql.js';

/** pg_advisory_xact_lock(ANPR_LOCK_SPACE, 3): registering a new edge (1: migrations, 2: partitions). */
export const EDGE_REGISTRATION_LOCK_ID = 3;

const COLS = 'id, name, created_at, instance_id, last_seen_at, heartbeat';

/** `body` (a resource's JSON text) with its `edge_id` field set to `edgeId`. */
function withEdgeId(body: string, edgeId: string | null): string {
  const o = JSON.parse(body) as Record<string, unknown>;
  o.edge_id = edgeId;
  return JSON.stringify(o);
}

/** Sets the cameras' edge (column and body) in one statement; `updatedAt` also stamps them. */
async function setCameraEdges(c: pg.PoolClient, rows: Array<{ id: string; body: string }>, edgeId: string | null, updatedAt?: string): Promise<void> {
  if (rows.length === 0) return;
  await c.query(
    `UPDATE config_items AS ci SET edge_id = $1, body = u.body${updatedAt === undefined ? '' : ', updated_at = $4'}
       FROM unnest($2::text[], $3::text[]) AS u(id, body)
      WHERE ci.kind = 'cameras' AND ci.id = u.id`,
    [edgeId, rows.map((r) => r.id), rows.map((r) => withEdgeId(r.body, edgeId)), ...(updatedAt === undefined ? [] : [updatedAt])],
  );
}

/**
 * Registers edge `id` (validated by the caller) if it is new, in the caller's transaction
 * `c`; returns true when this call registered it. On return the edge's row exists and this
 * transaction holds at least a key-share lock on it, so it cannot be deleted before commit.
 */
export async function ensureEdge(c: pg.PoolClient, id: string, name?: string): Promise<boolean> {
  // Each turn ends with the row seen and locked, with our insert, or after a concurrent
  // transaction committed that id (an insert we then conflict with, or a delete): it ends.
  for (;;) {
    if ((await c.query('SELECT 1 FROM edges WHERE id = $1 FOR KEY SHARE', [id])).rowCount) return false;
    await c.query('SELECT pg_advisory_xact_lock($1, $2)', [ANPR_LOCK_SPACE, EDGE_REGISTRATION_LOCK_ID]);
    const inserted = await c.query('INSERT INTO edges (id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING', [id, name ?? id, new Date().toISOString()]);
    if (!inserted.rowCount) continue; // registered meanwhile by another transaction: lock that row
    // Under the lock every earlier registration has committed: a count of 1 is really the first edge.
    const n = (await c.query<{ n: number }>('SELECT COUNT(*) AS n FROM edges')).rows[0]!.n;
    if (n === 1) {
      const cams = await c.query<{ id: string; body: string }>(`SELECT id, body FROM config_items WHERE kind = 'cameras' AND edge_id IS NULL ORDER BY id FOR UPDATE`);
      // As SQLite's json_set adoption: body and column, updated_at left as it was.
      await setCameraEdges(c, cams.rows, id);
    }
    return true;
  }
}

export class PgEdgesStore implements EdgesStore {
  private readonly pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.pool = pool;
  }

  async get(id: string): Promise<EdgeRecord | undefined> {
    return (await query<EdgeRecord>(this.pool, `SELECT ${COLS} FROM edges WHERE id = $1`, [id]))[0];
  }

  /** Every edge, by id (byte order, as SQLite's). */
  async list(): Promise<EdgeRecord[]> {
    return query<EdgeRecord>(this.pool, `SELECT ${COLS} FROM edges ORDER BY id`);
  }

  async count(): Promise<number> {
    return (await query<{ n: number }>(this.pool, 'SELECT COUNT(*) AS n FROM edges'))[0]!.n;
  }

  /** The edge's id when exactly one edge is registered, else null. */
  async soleEdge(): Promise<string | null> {
    const ids = await query<{ id: string }>(this.pool, 'SELECT id FROM edges LIMIT 2');
    return ids.length === 1 ? ids[0]!.id : null;
  }

  /**
   * Registers `id` if it is new (true); the first edge of a site adopts the cameras without
   * one. VALIDATION_ERROR (field `edge_id`) for an id that cannot be an edge's.
   */
  async ensure(id: string, name?: string): Promise<boolean> {
    checkEdgeId(id);
    return inTransaction(this.pool, (c) => ensureEdge(c, id, name));
  }

  /** Writes the last accepted heartbeat of `id`; false when the edge no longer exists. */
  async saveHeartbeat(id: string, instanceId: string | null, lastSeenAt: number | null, heartbeat: string | null): Promise<boolean> {
    return (await run(this.pool, 'UPDATE edges SET instance_id = $1, last_seen_at = $2, heartbeat = $3 WHERE id = $4', [instanceId, lastSeenAt, heartbeat, id])) > 0;
  }

  async rename(id: string, name: string): Promise<boolean> {
    return (await run(this.pool, 'UPDATE edges SET name = $1 WHERE id = $2', [name, id])) > 0;
  }

  /**
   * Deletes the edge and revokes its keys; its cameras are left without an edge and its own
   * exporters are deleted with it, in one transaction. Returns false when unknown.
   */
  async delete(id: string): Promise<boolean> {
    return inTransaction(this.pool, async (c) => {
      // The row lock orders this against a key being created for the edge (see the header).
      if (!(await c.query('SELECT 1 FROM edges WHERE id = $1 FOR UPDATE', [id])).rowCount) return false;
      const now = new Date().toISOString();
      await c.query('UPDATE api_keys SET revoked_at = $1 WHERE edge_id = $2 AND revoked_at IS NULL', [now, id]);
      const cams = await c.query<{ id: string; body: string }>(`SELECT id, body FROM config_items WHERE kind = 'cameras' AND edge_id = $1 ORDER BY id FOR UPDATE`, [id]);
      await setCameraEdges(c, cams.rows, null, now);
      await c.query(`DELETE FROM config_items WHERE kind = 'exporters' AND edge_id = $1`, [id]);
      await c.query('DELETE FROM edges WHERE id = $1', [id]);
      return true;
    });
  }
}
