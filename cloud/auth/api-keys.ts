/**
 * Edge API keys. Each key belongs to exactly one edge (`edge_id`): the edge is registered with
 * its first key (cloud/edges/edges-store.ts), and everything the key does is that edge's. A key is shown once at creation; only its sha256 is stored (keys are 256
 * random bits, so a fast hash is enough, unlike passwords). Lookups are cached for
 * CACHE_MS, so a key revoked by `anpr apikey revoke` (another process) stops working
 * within that time.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../db/open.js';
import { StatementCache } from '../db/statements.js';
import { AppError } from '../../shared/errors.js';
import { SqliteEdgesStore } from '../edges/edges-store.js';

export interface ApiKeyInfo {
  id: string;
  name: string;
  /** The edge this key belongs to. */
  edge_id: string;
  prefix: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

/** How long a key lookup is trusted before the database is asked again. */
export const CACHE_MS = 5000;

/** sha256 (hex) of a whole key: the only form of it that is stored or looked up. */
export const hashApiKey = (key: string): string => createHash('sha256').update(key).digest('hex');

/**
 * A new key for edge `edgeId` named `name`, its record and the hash to store; throws
 * VALIDATION_ERROR for a bad name. The key exists in clear only in what this returns.
 */
export function newApiKey(edgeId: string, name: string): { key: string; info: ApiKeyInfo; keyHash: string } {
  if (!/^[A-Za-z0-9][A-Za-z0-9._ -]{0,63}$/.test(name)) {
    throw new AppError('VALIDATION_ERROR', 'key name must be 1-64 characters of letters, digits, space, . _ -');
  }
  const id = `key_${randomBytes(6).toString('hex')}`;
  const key = `anpr_${randomBytes(32).toString('base64url')}`;
  const info: ApiKeyInfo = { id, name, edge_id: edgeId, prefix: key.slice(0, 10), created_at: new Date().toISOString(), last_used_at: null, revoked_at: null };
  return { key, info, keyHash: hashApiKey(key) };
}

/** The hash to look `key` up by, or null when its length rules it out (no lookup at all). */
export function lookupHash(key: string): string | null {
  return key.length < 10 || key.length > 200 ? null : hashApiKey(key);
}

/**
 * One process's memory of key lookups, whatever the backend: a lookup (found or not) is
 * trusted for CACHE_MS, and a key's last_used_at is written at most once a minute.
 */
export class ApiKeyLookups {
  private readonly hits = new Map<string, { info: ApiKeyInfo | null; at: number }>();
  private readonly lastUsedWrites = new Map<string, number>();

  /** The lookup of hash `h` made less than CACHE_MS before `now`, else undefined. */
  get(h: string, now: number): ApiKeyInfo | null | undefined {
    const hit = this.hits.get(h);
    return hit && now - hit.at < CACHE_MS ? hit.info : undefined;
  }

  set(h: string, info: ApiKeyInfo | null, now: number): void {
    // Bounded: a flood of random keys must not grow the map without end.
    if (this.hits.size > 10_000) this.hits.clear();
    this.hits.set(h, { info, at: now });
  }

  clear(): void {
    this.hits.clear();
  }

  /** Whether key `id` is due a last_used_at write at `now` (at most once a minute); claims it. */
  claimLastUsedWrite(id: string, now: number): boolean {
    if ((this.lastUsedWrites.get(id) ?? 0) >= now - 60_000) return false;
    this.lastUsedWrites.set(id, now);
    return true;
  }

  /** The claimed write failed: the key's next use writes it again. */
  lastUsedWriteFailed(id: string): void {
    this.lastUsedWrites.delete(id);
  }
}

export class SqliteApiKeysStore {
  private readonly db: Db;
  private readonly lookups = new ApiKeyLookups();

  private readonly sql: StatementCache;

  constructor(db: Db) {
    this.db = db;
    this.sql = new StatementCache(db);
  }

  /**
   * Creates a key for edge `edgeId` (registered now if it is new); `name` defaults to the edge
   * id. Returns the key in clear (the only time it exists outside the caller).
   */
  create(edgeId: string, name: string = edgeId): { key: string; info: ApiKeyInfo } {
    const { key, info, keyHash } = newApiKey(edgeId, name);
    this.db.transaction(() => {
      new SqliteEdgesStore(this.db).ensure(edgeId);
      this.sql.get('INSERT INTO api_keys (id, name, edge_id, prefix, key_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(info.id, name, edgeId, info.prefix, keyHash, info.created_at);
    }).immediate();
    return { key, info };
  }

  list(edgeId?: string): ApiKeyInfo[] {
    const cols = 'id, name, edge_id, prefix, created_at, last_used_at, revoked_at';
    if (edgeId !== undefined) return this.sql.get(`SELECT ${cols} FROM api_keys WHERE edge_id = ? ORDER BY created_at, id`).all(edgeId) as ApiKeyInfo[];
    return this.sql.get(`SELECT ${cols} FROM api_keys ORDER BY created_at, id`).all() as ApiKeyInfo[];
  }

  /** Forgets cached lookups (after keys were revoked other than through revoke(), e.g. an edge deleted). */
  clearCache(): void {
    this.lookups.clear();
  }

  /** Revokes by id or name; returns how many keys were revoked. */
  revoke(idOrName: string): number {
    const n = this.sql.get('UPDATE api_keys SET revoked_at = ? WHERE (id = ? OR name = ?) AND revoked_at IS NULL')
      .run(new Date().toISOString(), idOrName, idOrName).changes;
    this.lookups.clear();
    return n;
  }

  /**
   * Whether a key is still unrevoked, asked of the database (not the cache): open streams
   * re-check their key with it, so a revocation by another process closes them too.
   */
  isActive(id: string): boolean {
    return this.sql.get('SELECT 1 FROM api_keys WHERE id = ? AND revoked_at IS NULL').get(id) !== undefined;
  }

  /** Returns the key's record when it is valid and not revoked. */
  verify(key: string): ApiKeyInfo | null {
    const h = lookupHash(key);
    if (h === null) return null;
    const now = Date.now();
    let info = this.lookups.get(h, now);
    if (info === undefined) {
      info =
        (this.sql.get('SELECT id, name, edge_id, prefix, created_at, last_used_at, revoked_at FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL')
          .get(h) as ApiKeyInfo | undefined) ?? null;
      this.lookups.set(h, info, now);
    }
    // last_used_at at most once a minute per key: no write per request.
    if (info && this.lookups.claimLastUsedWrite(info.id, now)) {
      try {
        this.sql.get('UPDATE api_keys SET last_used_at = ? WHERE id = ?').run(new Date(now).toISOString(), info.id);
      } catch {
        // Bookkeeping only: a database busy past busy_timeout must not refuse the request the
        // key authorises (an ingest would turn into a 503). The next use writes it again.
        this.lookups.lastUsedWriteFailed(info.id);
      }
    }
    return info;
  }
}
