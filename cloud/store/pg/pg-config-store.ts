/**
 * Config resources (cameras, zones, models, sensors, exporters) on PostgreSQL: the counterpart
 * of SqliteConfigStore (cloud/store/config-store.ts), with its answers: the same resources,
 * ids, errors, filters, order, paging, totals and edge scopes (test/cloud/store/config-contract.test.ts
 * runs one suite against both).
 *
 * Guarantees:
 * - Ids are the client's when given, else generated per kind in sequence (cam-001, cam-002, …)
 *   from `id_counters`, skipping ids already taken. The counter's row stays locked from its
 *   increment to the commit, so replicas creating at once draw distinct numbers; the item is
 *   inserted ON CONFLICT DO NOTHING, so an id a concurrent create took first is a 409 when the
 *   client gave it and skipped when generated, never a unique-violation 500.
 * - A create is one transaction: a refused create changes nothing, its counter draw included
 *   (as SQLite's rolled-back one). Replace and delete are one statement each.
 * - The config generation moves on every insert, update and delete of an item, by migration 1's
 *   row triggers, whoever writes (this process, another replica, psql).
 * - What an edge runs is `scopeOf` of config-store.ts, read from columns (camera_id, edge_id and
 *   zone_id, the body's `zone_id`, written here): no query parses a body, so no stored body can
 *   fail a listing. SQLite hides a sensor with no camera whose body it cannot parse (nested past
 *   its 1000 levels: only rows older than the API's 64-level bound) from every edge; no body
 *   this service writes is one, and here every sensor is scoped by its columns.
 * - Ids and timestamps compare and sort by byte (COLLATE "C" columns), as SQLite's BINARY.
 * - A database that cannot answer now is a 503 SERVICE_UNAVAILABLE with Retry-After (pgFailure).
 */
import type pg from 'pg';
import type { ConfigStore } from '../contracts.js';
import { configColumns, configId, duplicateResource, newResource, type ConfigFilter, type ConfigKind, type Resource } from '../config-store.js';
import { inTransaction } from '../../db/pg/transaction.js';
import { Params, pageWithTotal, query, run } from './sql.js';

/**
 * SQL condition (on `config_items` unqualified): the items of `kind` that edge `edgeId` runs,
 * its id added to `p` where the condition reads it (PostgreSQL refuses a parameter no statement
 * uses). The one definition is config-store.ts `scopeOf`; here a sensor's zone is the zone_id
 * column instead of json_extract.
 */
function scopeOf(kind: ConfigKind, edgeId: string, p: Params): string {
  if (kind === 'models') return 'true';
  const edge = p.add(edgeId);
  const ownCameras = `SELECT id FROM config_items WHERE kind = 'cameras' AND edge_id = ${edge}`;
  switch (kind) {
    case 'cameras':
      return `edge_id = ${edge}`;
    case 'zones':
      return `camera_id IN (${ownCameras})`;
    case 'sensors': {
      const ownZones = `SELECT id FROM config_items WHERE kind = 'zones' AND camera_id IN (${ownCameras})`;
      return `(camera_id IN (${ownCameras}) OR (camera_id IS NULL AND (zone_id IS NULL OR zone_id IN (${ownZones}))))`;
    }
    case 'exporters':
      return `(edge_id IS NULL OR edge_id = ${edge})`;
  }
}

/** The row's values in the order of `COLUMNS`. */
function rowValues(kind: ConfigKind, res: Resource): unknown[] {
  const c = configColumns(kind, res);
  const zone = typeof res.zone_id === 'string' ? res.zone_id : null;
  return [c.kind, c.id, c.body, c.enabled, c.camera_id, c.type, c.edge_id, zone, c.created_at, c.updated_at];
}
const COLUMNS = 'kind, id, body, enabled, camera_id, type, edge_id, zone_id, created_at, updated_at';

/** `ConfigStore` on PostgreSQL: the behaviour of SqliteConfigStore (see the module header). */
export class PgConfigStore implements ConfigStore {
  private readonly pool: pg.Pool;

  /** Stores the pool (cloud/db/pg/connect.ts `openPgPool`, migrated); no query is made. */
  constructor(pool: pg.Pool) {
    this.pool = pool;
  }

  /**
   * Creates an item: `body.id` when it is a string (409 DUPLICATE_RESOURCE when taken), else
   * the next free generated id of `kind`. Stamps created_at = updated_at = now.
   */
  async create(kind: ConfigKind, body: Record<string, unknown>): Promise<Resource> {
    return inTransaction(this.pool, async (c) => {
      const insert = async (res: Resource) =>
        (await c.query(`INSERT INTO config_items (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (kind, id) DO NOTHING`, rowValues(kind, res))).rowCount === 1;
      if (typeof body.id === 'string') {
        const res = newResource(body.id, body, new Date().toISOString());
        if (!(await insert(res))) throw duplicateResource(kind, body.id);
        return res;
      }
      for (;;) {
        // SQLite's statement, with the column qualified: a bare `next` is ambiguous here.
        const { rows } = await c.query<{ n: number }>(
          'INSERT INTO id_counters (kind, next) VALUES ($1, 2) ON CONFLICT (kind) DO UPDATE SET next = id_counters.next + 1 RETURNING next - 1 AS n',
          [kind],
        );
        const res = newResource(configId(kind, Number(rows[0]!.n)), body, new Date().toISOString());
        if (await insert(res)) return res;
      }
    });
  }

  /** Writes `res` over the stored item with updated_at = now; returns what was written (an unknown id changes nothing). */
  async replace(kind: ConfigKind, res: Resource): Promise<Resource> {
    const updated: Resource = { ...res, updated_at: new Date().toISOString() };
    const [k, id, body, enabled, camera, type, edge, zone, , updatedAt] = rowValues(kind, updated);
    await run(
      this.pool,
      `UPDATE config_items SET body = $3, enabled = $4, camera_id = $5, type = $6, edge_id = $7, zone_id = $8, updated_at = $9
       WHERE kind = $1 AND id = $2`,
      [k, id, body, enabled, camera, type, edge, zone, updatedAt],
    );
    return updated;
  }

  async get(kind: ConfigKind, id: string): Promise<Resource | undefined> {
    const rows = await query<{ body: string }>(this.pool, 'SELECT body FROM config_items WHERE kind = $1 AND id = $2', [kind, id]);
    return rows.length ? (JSON.parse(rows[0]!.body) as Resource) : undefined;
  }

  /** The edge an item is assigned to (null: none), or undefined when there is no such item; no JSON is parsed. */
  async edgeOf(kind: ConfigKind, id: string): Promise<string | null | undefined> {
    const rows = await query<{ edge_id: string | null }>(this.pool, 'SELECT edge_id FROM config_items WHERE kind = $1 AND id = $2', [kind, id]);
    return rows.length ? rows[0]!.edge_id : undefined;
  }

  /** Whether `edgeId` runs item `id` of `kind` (false when there is no such item). */
  async visibleTo(kind: ConfigKind, id: string, edgeId: string): Promise<boolean> {
    const p = new Params();
    const rows = await query(this.pool, `SELECT 1 FROM config_items WHERE kind = ${p.add(kind)} AND id = ${p.add(id)} AND ${scopeOf(kind, edgeId, p)}`, p.values);
    return rows.length === 1;
  }

  /** Every item of `kind` that `edgeId` runs, ordered by id, as stored (JSON text). */
  async bodiesFor(kind: ConfigKind, edgeId: string): Promise<string[]> {
    const p = new Params();
    const rows = await query<{ body: string }>(this.pool, `SELECT body FROM config_items WHERE kind = ${p.add(kind)} AND ${scopeOf(kind, edgeId, p)} ORDER BY id`, p.values);
    return rows.map((r) => r.body);
  }

  /** Raised by every change of any config item and of any list, by any replica. */
  async generation(): Promise<number> {
    const rows = await query<{ n: number }>(this.pool, 'SELECT n FROM config_generation WHERE id = 1');
    return Number(rows[0]!.n);
  }

  /** How many items of `kind` other than `exceptId` edge `edgeId` runs. */
  async countFor(kind: ConfigKind, edgeId: string, exceptId: string | null): Promise<number> {
    const p = new Params();
    const where = `kind = ${p.add(kind)} AND id IS DISTINCT FROM ${p.add(exceptId)} AND ${scopeOf(kind, edgeId, p)}`;
    const rows = await query<{ n: number }>(this.pool, `SELECT count(*)::int AS n FROM config_items WHERE ${where}`, p.values);
    return rows[0]!.n;
  }

  async delete(kind: ConfigKind, id: string): Promise<boolean> {
    return (await run(this.pool, 'DELETE FROM config_items WHERE kind = $1 AND id = $2', [kind, id])) > 0;
  }

  /** One page of the items of `kind` matching `f`, by creation time then id, and how many match. */
  async list(kind: ConfigKind, f: ConfigFilter, skip: number, limit: number): Promise<{ items: Resource[]; total: number }> {
    const p = new Params();
    const parts = [`kind = ${p.add(kind)}`];
    if (f.enabled !== undefined) parts.push(`enabled = ${p.add(Number(f.enabled))}`);
    if (f.camera_id !== undefined) parts.push(`camera_id = ${p.add(f.camera_id)}`);
    if (f.type !== undefined) parts.push(`type = ${p.add(f.type)}`);
    if (f.edge_id !== undefined) parts.push(f.edge_id === null ? 'edge_id IS NULL' : `edge_id = ${p.add(f.edge_id)}`);
    if (f.visibleTo !== undefined) parts.push(scopeOf(kind, f.visibleTo, p));
    const { rows, total } = await pageWithTotal<{ body: string }>(this.pool, 'config_items', parts.join(' AND '), p, 'body, created_at, id', 'created_at, id', skip, limit);
    return { items: rows.map((r) => JSON.parse(r.body) as Resource), total };
  }
}
