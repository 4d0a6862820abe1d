/**
 * Config resources (cameras, zones, models, sensors, exporters) in one table: the validated
 * JSON body plus the columns the list filters use. Ids are the client's when given, else
 * generated per kind in sequence (cam-001, zone-001, …).
 */
import type { Db } from '../db/open.js';
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
}

export class ConfigStore {
  private readonly db: Db;

  constructor(db: Db) {
    this.db = db;
  }

  private nextId(kind: ConfigKind): string {
    for (;;) {
      const row = this.db
        .prepare('INSERT INTO id_counters (kind, next) VALUES (?, 2) ON CONFLICT (kind) DO UPDATE SET next = next + 1 RETURNING next - 1 AS n')
        .get(kind) as { n: number };
      const id = `${ID_PREFIX[kind]}-${String(row.n).padStart(3, '0')}`;
      if (!this.get(kind, id)) return id;
    }
  }

  create(kind: ConfigKind, body: Record<string, unknown>): Resource {
    return this.db.transaction(() => {
      const id = typeof body.id === 'string' ? body.id : this.nextId(kind);
      if (this.get(kind, id)) {
        throw new AppError('DUPLICATE_RESOURCE', `${ID_PREFIX[kind]} with id ${id} already exists`);
      }
      const now = new Date().toISOString();
      const { id: _given, ...fields } = body;
      const res: Resource = { id, ...fields, created_at: now, updated_at: now };
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
    const cols = {
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
    if (insert) {
      this.db
        .prepare(
          `INSERT INTO config_items (kind, id, body, enabled, camera_id, type, edge_id, created_at, updated_at)
           VALUES (@kind, @id, @body, @enabled, @camera_id, @type, @edge_id, @created_at, @updated_at)`,
        )
        .run(cols);
    } else {
      this.db
        .prepare(
          `UPDATE config_items SET body = @body, enabled = @enabled, camera_id = @camera_id, type = @type, edge_id = @edge_id, updated_at = @updated_at
           WHERE kind = @kind AND id = @id`,
        )
        .run(cols);
    }
  }

  get(kind: ConfigKind, id: string): Resource | undefined {
    const body = this.db.prepare('SELECT body FROM config_items WHERE kind = ? AND id = ?').pluck().get(kind, id) as string | undefined;
    return body === undefined ? undefined : (JSON.parse(body) as Resource);
  }

  delete(kind: ConfigKind, id: string): boolean {
    return this.db.prepare('DELETE FROM config_items WHERE kind = ? AND id = ?').run(kind, id).changes > 0;
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
    const where = parts.join(' AND ');
    const items = (
      this.db.prepare(`SELECT body FROM config_items WHERE ${where} ORDER BY created_at, id LIMIT ? OFFSET ?`).pluck().all(...params, limit, skip) as string[]
    ).map((b) => JSON.parse(b) as Resource);
    const total = this.db.prepare(`SELECT COUNT(*) FROM config_items WHERE ${where}`).pluck().get(...params) as number;
    return { items, total };
  }
}
