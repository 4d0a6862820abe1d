/**
 * Config resources (cameras, zones, models, sensors, exporters) in one table: the validated
 * JSON body plus the columns the list filters use. Ids are the client's when given, else
 * generated per kind in sequence (cam-001, zone-001, …).
 *
 * What an edge runs (`scopeOf`), the one definition used by `GET /config/*` with an edge's key
 * and by its config bundle (cloud/edges/edge-config.ts): cameras whose `edge_id` is the edge;
 * zones whose camera is one of those; sensors whose camera is one of those, or with no camera
 * whose zone's camera is, and sensors with neither camera nor zone; every model; exporters
 * with `edge_id` null (every edge) or the edge.
 */
import type { Db } from '../db/open.js';
import { StatementCache } from '../db/statements.js';
import { AppError } from '../../shared/errors.js';

export type ConfigKind = 'cameras' | 'zones' | 'models' | 'sensors' | 'exporters';

export const ID_PREFIX: Record<ConfigKind, string> = {
  cameras: 'cam',
  zones: 'zone',
  models: 'model',
  sensors: 'sensor',
  exporters: 'exporter',
};

export type Resource = Record<string, unknown> & { id: string; created_at: string; updated_at: string };

export interface ConfigFilter {
  enabled?: boolean;
  camera_id?: string;
  type?: string;
  /** Items of this edge; null = items with no edge. */
  edge_id?: string | null;
  /** Only what this edge runs (see the module header). */
  visibleTo?: string;
}

/** The generated id of the `n`th item of `kind` (cam-001, zone-012, …). */
export function configId(kind: ConfigKind, n: number): string {
  return `${ID_PREFIX[kind]}-${String(n).padStart(3, '0')}`;
}

/** 409: an item of `kind` with id `id` exists already. */
export function duplicateResource(kind: ConfigKind, id: string): AppError {
  return new AppError('DUPLICATE_RESOURCE', `${ID_PREFIX[kind]} with id ${id} already exists`);
}

/** The item a create stores: the client's fields (its `id` replaced by `id`), created and updated `now`. */
export function newResource(id: string, body: Record<string, unknown>, now: string): Resource {
  const { id: _given, ...fields } = body;
  return { id, ...fields, created_at: now, updated_at: now };
}

/** A config item's row: the body as stored (JSON text) and the fields the filters and edge scopes read. */
export function configColumns(kind: ConfigKind, res: Resource) {
  return {
    kind,
    id: res.id,
    body: JSON.stringify(res),
    enabled: typeof res.enabled === 'boolean' ? Number(res.enabled) : null,
    camera_id: typeof res.camera_id === 'string' ? res.camera_id : null,
    type: typeof res.type === 'string' ? res.type : null,
    edge_id: typeof res.edge_id === 'string' ? res.edge_id : null,
    created_at: res.created_at,
    updated_at: res.updated_at,
  };
}

/** SQL condition (on `config_items` unqualified) and its parameters: the items of `kind` that `edgeId` runs. */
function scopeOf(kind: ConfigKind, edgeId: string): { sql: string; params: unknown[] } {
  const ownCameras = `SELECT id FROM config_items WHERE kind = 'cameras' AND edge_id = ?`;
  switch (kind) {
    case 'cameras':
      return { sql: 'edge_id = ?', params: [edgeId] };
    case 'zones':
      return { sql: `camera_id IN (${ownCameras})`, params: [edgeId] };
    case 'sensors': {
      // A body SQLite cannot parse (a row older than the API's depth bound, nested past SQLite's
      // 1000 levels) would make json_extract fail the whole query: such a sensor without a camera
      // is shown to no edge rather than to every edge, and the others still list.
      const zone = `json_extract(body, '$.zone_id')`;
      const ownZones = `SELECT id FROM config_items WHERE kind = 'zones' AND camera_id IN (${ownCameras})`;
      return {
        sql: `(camera_id IN (${ownCameras}) OR (camera_id IS NULL AND json_valid(body) AND (${zone} IS NULL OR ${zone} IN (${ownZones}))))`,
        params: [edgeId, edgeId],
      };
    }
    case 'models':
      return { sql: '1', params: [] };
    case 'exporters':
      return { sql: '(edge_id IS NULL OR edge_id = ?)', params: [edgeId] };
  }
}

export class SqliteConfigStore {
  private readonly db: Db;
  private readonly sql: StatementCache;

  constructor(db: Db) {
    this.db = db;
    this.sql = new StatementCache(db);
  }

  private nextId(kind: ConfigKind): string {
    for (;;) {
      const row = this.sql.get('INSERT INTO id_counters (kind, next) VALUES (?, 2) ON CONFLICT (kind) DO UPDATE SET next = next + 1 RETURNING next - 1 AS n')
        .get(kind) as { n: number };
      const id = configId(kind, row.n);
      if (!this.get(kind, id)) return id;
    }
  }

  create(kind: ConfigKind, body: Record<string, unknown>): Resource {
    return this.db.transaction(() => {
      const id = typeof body.id === 'string' ? body.id : this.nextId(kind);
      if (this.get(kind, id)) throw duplicateResource(kind, id);
      const res = newResource(id, body, new Date().toISOString());
      this.write(kind, res, true);
      return res;
      // IMMEDIATE: reads then writes beside the events writer thread (see events-store.ts).
    }).immediate();
  }

  replace(kind: ConfigKind, res: Resource): Resource {
    const updated: Resource = { ...res, updated_at: new Date().toISOString() };
    this.write(kind, updated, false);
    return updated;
  }

  private write(kind: ConfigKind, res: Resource, insert: boolean): void {
    const cols = configColumns(kind, res);
    if (insert) {
      this.sql.get(
          `INSERT INTO config_items (kind, id, body, enabled, camera_id, type, edge_id, created_at, updated_at)
           VALUES (@kind, @id, @body, @enabled, @camera_id, @type, @edge_id, @created_at, @updated_at)`,
        )
        .run(cols);
    } else {
      this.sql.get(
          `UPDATE config_items SET body = @body, enabled = @enabled, camera_id = @camera_id, type = @type, edge_id = @edge_id, updated_at = @updated_at
           WHERE kind = @kind AND id = @id`,
        )
        .run(cols);
    }
  }

  get(kind: ConfigKind, id: string): Resource | undefined {
    const body = this.sql.get('SELECT body FROM config_items WHERE kind = ? AND id = ?').pluck().get(kind, id) as string | undefined;
    return body === undefined ? undefined : (JSON.parse(body) as Resource);
  }

  /** The edge an item is assigned to (null: none), or undefined when there is no such item; no JSON is parsed (ingest asks this per event). */
  edgeOf(kind: ConfigKind, id: string): string | null | undefined {
    const row = this.sql.get('SELECT edge_id FROM config_items WHERE kind = ? AND id = ?').get(kind, id) as { edge_id: string | null } | undefined;
    return row === undefined ? undefined : row.edge_id;
  }

  /** Whether `edgeId` runs item `id` of `kind` (false when there is no such item). */
  visibleTo(kind: ConfigKind, id: string, edgeId: string): boolean {
    const scope = scopeOf(kind, edgeId);
    return this.sql.get(`SELECT 1 FROM config_items WHERE kind = ? AND id = ? AND ${scope.sql}`).pluck().get(kind, id, ...scope.params) === 1;
  }

  /** Every item of `kind` that `edgeId` runs, ordered by id, as stored (JSON text). */
  bodiesFor(kind: ConfigKind, edgeId: string): string[] {
    const scope = scopeOf(kind, edgeId);
    return this.sql.get(`SELECT body FROM config_items WHERE kind = ? AND ${scope.sql} ORDER BY id`).pluck().all(kind, ...scope.params) as string[];
  }

  /** Raised by every change of any config item, by any process (migration 5's triggers). */
  generation(): number {
    return this.sql.get('SELECT n FROM config_generation WHERE id = 1').pluck().get() as number;
  }

  /** How many items of `kind` other than `exceptId` edge `edgeId` runs. */
  countFor(kind: ConfigKind, edgeId: string, exceptId: string | null): number {
    const scope = scopeOf(kind, edgeId);
    return this.sql.get(`SELECT COUNT(*) FROM config_items WHERE kind = ? AND id IS NOT ? AND ${scope.sql}`).pluck().get(kind, exceptId, ...scope.params) as number;
  }

  delete(kind: ConfigKind, id: string): boolean {
    return this.sql.get('DELETE FROM config_items WHERE kind = ? AND id = ?').run(kind, id).changes > 0;
  }

  list(kind: ConfigKind, f: ConfigFilter, skip: number, limit: number): { items: Resource[]; total: number } {
    const parts = ['kind = ?'];
    const params: unknown[] = [kind];
    if (f.enabled !== undefined) {
      parts.push('enabled = ?');
      params.push(Number(f.enabled));
    }
    if (f.camera_id !== undefined) {
      parts.push('camera_id = ?');
      params.push(f.camera_id);
    }
    if (f.type !== undefined) {
      parts.push('type = ?');
      params.push(f.type);
    }
    if (f.edge_id !== undefined) {
      parts.push(f.edge_id === null ? 'edge_id IS NULL' : 'edge_id = ?');
      if (f.edge_id !== null) params.push(f.edge_id);
    }
    if (f.visibleTo !== undefined) {
      const scope = scopeOf(kind, f.visibleTo);
      parts.push(scope.sql);
      params.push(...scope.params);
    }
    const where = parts.join(' AND ');
    const items = (
      this.sql.get(`SELECT body FROM config_items WHERE ${where} ORDER BY created_at, id LIMIT ? OFFSET ?`).pluck().all(...params, limit, skip) as string[]
    ).map((b) => JSON.parse(b) as Resource);
    const total = this.sql.get(`SELECT COUNT(*) FROM config_items WHERE ${where}`).pluck().get(...params) as number;
    return { items, total };
  }
}
