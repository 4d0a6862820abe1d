/**
 * Edge API keys on PostgreSQL: the same behaviour as SqliteApiKeysStore
 * (cloud/auth/api-keys.ts), from which the key format, the name check, the hashing and the
 * lookup cache are taken as they are.
 *
 * Guarantees:
 * - Only the key's sha256 is stored; the key exists in clear only in what `create` returns.
 * - `create` registers the key's edge (if new) in the same transaction as the key, and holds a
 *   lock on the edge's row until it commits: an edge deleted at the same moment
 *   (PgEdgesStore.delete) either revokes this key too or is registered anew for it.
 * - Lookups are cached per replica for CACHE_MS: a key revoked on another replica (or by
 *   `anpr apikey revoke`) stops working here within that time; `revoke` through this store
 *   clears this replica's cache at once, and `isActive` always asks the database.
 * - last_used_at is written at most once a minute per key and replica, and a failure to write
 *   it never refuses the request the key authorises.
 * - What the database cannot take now is a 503 (cloud/db/pg/transaction.ts `pgFailure`).
 */
import type pg from 'pg';
import { ApiKeyLookups, lookupHash, newApiKey, type ApiKeyInfo } from '../../auth/api-keys.js';
import { inTransaction } from '../../db/pg/transaction.js';
import { checkEdgeId } from '../../edges/edges-store.js';
import type { ApiKeysStore } from '../contracts.js';
import { ensureEdge } from './pg-edges-store.js';
import { query, run } from './sql.js';

const COLS = 'id, name, edge_id, prefix, created_at, last_used_at, revoked_at';

export class PgApiKeysStore implements ApiKeysStore {
  private readonly pool: pg.Pool;
  private readonly lookups = new ApiKeyLookups();

  constructor(pool: pg.Pool) {
    this.pool = pool;
  }

  /**
   * Creates a key for edge `edgeId` (registered now if it is new); `name` defaults to the edge
   * id. Returns the key in clear (the only time it exists outside the caller).
   */
  async create(edgeId: string, name: string = edgeId): Promise<{ key: string; info: ApiKeyInfo }> {
    const { key, info, keyHash } = newApiKey(edgeId, name);
    checkEdgeId(edgeId);
    await inTransaction(this.pool, async (c) => {
      await ensureEdge(c, edgeId);
      await c.query('INSERT INTO api_keys (id, name, edge_id, prefix, key_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)', [
        info.id, name, edgeId, info.prefix, keyHash, info.created_at,
      ]);
    });
    return { key, info };
  }

  /** Every key (of edge `edgeId` when given), oldest first. */
  async list(edgeId?: string): Promise<ApiKeyInfo[]> {
    return edgeId !== undefined
      ? query<ApiKeyInfo>(this.pool, `SELECT ${COLS} FROM api_keys WHERE edge_id = $1 ORDER BY created_at, id`, [edgeId])
      : query<ApiKeyInfo>(this.pool, `SELECT ${COLS} FROM api_keys ORDER BY created_at, id`);
  }

  /** Forgets this replica's cached lookups (keys revoked other than through revoke(), e.g. an edge deleted). */
  async clearCache(): Promise<void> {
    this.lookups.clear();
  }

  /** Revokes by id or name; returns how many keys were revoked. */
  async revoke(idOrName: string): Promise<number> {
    const n = await run(this.pool, 'UPDATE api_keys SET revoked_at = $1 WHERE (id = $2 OR name = $2) AND revoked_at IS NULL', [new Date().toISOString(), idOrName]);
    this.lookups.clear();
    return n;
  }

  /** Whether a key is still unrevoked, asked of the database (open streams re-check with it). */
  async isActive(id: string): Promise<boolean> {
    return (await query(this.pool, 'SELECT 1 FROM api_keys WHERE id = $1 AND revoked_at IS NULL', [id])).length > 0;
  }

  /** Returns the key's record when it is valid and not revoked. */
  async verify(key: string): Promise<ApiKeyInfo | null> {
    const h = lookupHash(key);
    if (h === null) return null;
    const now = Date.now();
    let info = this.lookups.get(h, now);
    if (info === undefined) {
      info = (await query<ApiKeyInfo>(this.pool, `SELECT ${COLS} FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL`, [h]))[0] ?? null;
      this.lookups.set(h, info, now);
    }
    // last_used_at at most once a minute per key: no write per request.
    if (info && this.lookups.claimLastUsedWrite(info.id, now)) {
      try {
        await this.pool.query('UPDATE api_keys SET last_used_at = $1 WHERE id = $2', [new Date(now).toISOString(), info.id]);
      } catch {
        // Bookkeeping only: a database that cannot take the write must not refuse the request
        // the key authorises (an ingest would turn into a 503). The next use writes it again.
        this.lookups.lastUsedWriteFailed(info.id);
      }
    }
    return info;
  }
}
