/**
 * Access lists (issue 10): a list's fields in `access_lists`, its entries one row each in
 * `list_entries` keyed by (list, normalised plate). Validation is the caller's
 * (shared/schemas/lists.ts); this module stores what it is given, canonically.
 *
 * Guarantees:
 * - Every change of a list or of its entries is one IMMEDIATE transaction: a 100,000-entry
 *   import is all stored or none of it, and a reader never sees half of a change.
 * - `version` is the config generation (migration 5's counter, shared with the config items)
 *   that the list's last change raised it to: it rises with every change of the list, is never
 *   reused (also not by a list deleted and created again with the same id), and moving it moves
 *   the generation, so the edges' config versions are recomputed (cloud/edges/edge-config.ts).
 * - A write that changes nothing (the same fields, entries equal to the stored ones) keeps the
 *   version: edges do not fetch an unchanged list again.
 * - Entries are stored canonically (keys in one order, schedule days unique in week order), so
 *   equal entries are equal text, and pages and exports are ordered by plate.
 * - What an edge applies (`appliedBy`): the lists of every edge (`edge_id` null) and its own,
 *   enabled or not (the edge decides with the enabled ones); the same selection scopes
 *   `GET /config/lists` for an edge's key and the edge's config bundle.
 */
import type { Db } from '../db/open.js';
import { StatementCache } from '../db/statements.js';
import { AppError } from '../../shared/errors.js';
import { WEEKDAYS, type ListEntry, type ListSummary, type ListUpdate } from '../../shared/schemas/lists.js';

/** A row of `access_lists` as the stores read it (`LIST_COLUMNS`). */
export interface ListRow {
  id: string;
  body: string;
  edge_id: string | null;
  version: number;
  entries_count: number;
  created_at: string;
  updated_at: string;
}

export interface ListFilter {
  type?: string;
  enabled?: boolean;
  /** Lists of this edge only; null = lists of every edge. */
  edge_id?: string | null;
  /** Only the lists this edge applies (edge_id null or this edge). */
  visibleTo?: string;
}

/** What a change of entries did. */
export interface EntriesChange {
  list: ListSummary;
  added: number;
  updated: number;
  removed: number;
  unchanged: number;
}

/** The columns of a `ListRow`, for SELECT lists. */
export const LIST_COLUMNS = 'id, body, edge_id, version, entries_count, created_at, updated_at';
const APPLIES = '(edge_id IS NULL OR edge_id = ?)';
const dayRank = new Map<string, number>(WEEKDAYS.map((d, i) => [d, i]));

/** The stored text of an entry: fixed key order, schedule days unique and in week order. */
export function entryText(e: ListEntry): string {
  return JSON.stringify({
    plate: e.plate,
    label: e.label,
    valid_from: e.valid_from,
    valid_until: e.valid_until,
    schedule: e.schedule.map((w) => ({ days: [...new Set(w.days)].sort((a, b) => dayRank.get(a)! - dayRank.get(b)!), from: w.from, to: w.to })),
    rfid: e.rfid,
  });
}

/** The stored text of a list's fields, in one key order (an unchanged PUT is the same text). */
export function fieldsText(f: ListUpdate): string {
  return JSON.stringify({
    name: f.name,
    type: f.type,
    edge_id: f.edge_id,
    camera_ids: f.camera_ids,
    direction: f.direction,
    match: { mode: f.match.mode, confusable_cost: f.match.confusable_cost, max_distance: f.match.max_distance },
    timezone: f.timezone,
    enabled: f.enabled,
  });
}

/** The list as the API serves it, from its row. */
export function summaryOf(r: ListRow): ListSummary {
  return {
    id: r.id,
    ...(JSON.parse(r.body) as ListUpdate),
    entries_count: r.entries_count,
    version: String(r.version),
    created_at: r.created_at,
    updated_at: r.updated_at,
  };
}

/** The generated id of the `n`th list (list-001, list-012, …). */
export function listId(n: number): string {
  return `list-${String(n).padStart(3, '0')}`;
}

/** 409: a list with id `id` exists already. */
export function duplicateList(id: string): AppError {
  return new AppError('DUPLICATE_RESOURCE', `A list with id ${id} already exists`);
}

/** What writing entries over the stored ones takes: the writes in the entries' order, and the counts. */
export interface EntriesPlan {
  writes: Array<{ plate: string; text: string; isNew: boolean }>;
  added: number;
  updated: number;
  unchanged: number;
}

/**
 * Compares each entry's canonical text with the stored text of its plate (`stored`, called once
 * per entry in order; undefined: no such entry): an equal entry is unchanged and not written.
 */
export function planEntries(entries: readonly ListEntry[], stored: (plate: string) => string | undefined): EntriesPlan {
  const plan: EntriesPlan = { writes: [], added: 0, updated: 0, unchanged: 0 };
  for (const e of entries) {
    const text = entryText(e);
    const before = stored(e.plate);
    if (before === text) plan.unchanged++;
    else {
      plan.writes.push({ plate: e.plate, text, isNew: before === undefined });
      if (before === undefined) plan.added++;
      else plan.updated++;
    }
  }
  return plan;
}

export class SqliteListsStore {
  private readonly sql: StatementCache;

  constructor(private readonly db: Db) {
    this.sql = new StatementCache(db, 64);
  }

  private nextId(): string {
    for (;;) {
      const n = this.sql.get("INSERT INTO id_counters (kind, next) VALUES ('lists', 2) ON CONFLICT (kind) DO UPDATE SET next = next + 1 RETURNING next - 1").pluck().get() as number;
      const id = listId(n);
      if (!this.row(id)) return id;
    }
  }

  private row(id: string): ListRow | undefined {
    return this.sql.get(`SELECT ${LIST_COLUMNS} FROM access_lists WHERE id = ?`).get(id) as ListRow | undefined;
  }

  /** Raises the config generation and makes it the list's version; `delta` adjusts entries_count. */
  private bump(id: string, delta: number): void {
    const n = this.sql.get('UPDATE config_generation SET n = n + 1 WHERE id = 1 RETURNING n').pluck().get() as number;
    this.sql.get('UPDATE access_lists SET version = ?, entries_count = entries_count + ?, updated_at = ? WHERE id = ?').run(n, delta, new Date().toISOString(), id);
  }

  get(id: string): ListSummary | undefined {
    const r = this.row(id);
    return r && summaryOf(r);
  }

  /** The current version of list `id`, or undefined (one indexed read: every entries page asks). */
  version(id: string): string | undefined {
    const v = this.sql.get('SELECT version FROM access_lists WHERE id = ?').pluck().get(id) as number | undefined;
    return v === undefined ? undefined : String(v);
  }

  /** Creates a list with its entries (already validated, plates unique), in one transaction. */
  create(id: string | null, fields: ListUpdate, entries: readonly ListEntry[]): ListSummary {
    return this.db
      .transaction(() => {
        const newId = id ?? this.nextId();
        if (this.row(newId)) throw duplicateList(newId);
        const now = new Date().toISOString();
        this.sql.get('INSERT INTO access_lists (id, body, edge_id, version, entries_count, created_at, updated_at) VALUES (?, ?, ?, 0, 0, ?, ?)')
          .run(newId, fieldsText(fields), fields.edge_id, now, now);
        const insert = this.sql.get('INSERT INTO list_entries (list_id, plate, body) VALUES (?, ?, ?)');
        for (const e of entries) insert.run(newId, e.plate, entryText(e));
        this.bump(newId, entries.length);
        return this.get(newId)!;
        // IMMEDIATE: reads then writes beside the events writer thread (cloud/db/open.ts).
      })
      .immediate();
  }

  /** Replaces the list's fields; the version moves only when they differ. Undefined: no such list. */
  update(id: string, fields: ListUpdate): ListSummary | undefined {
    return this.db
      .transaction(() => {
        const r = this.row(id);
        if (!r) return undefined;
        const text = fieldsText(fields);
        if (text === r.body) return summaryOf(r);
        this.sql.get('UPDATE access_lists SET body = ?, edge_id = ? WHERE id = ?').run(text, fields.edge_id, id);
        this.bump(id, 0);
        return this.get(id)!;
      })
      .immediate();
  }

  /** Deletes a list and its entries; raises the generation (the edges applying it drop it). */
  delete(id: string): boolean {
    return this.db
      .transaction(() => {
        if (!this.row(id)) return false;
        this.sql.get('DELETE FROM list_entries WHERE list_id = ?').run(id);
        this.sql.get('DELETE FROM access_lists WHERE id = ?').run(id);
        this.sql.get('UPDATE config_generation SET n = n + 1 WHERE id = 1').run();
        return true;
      })
      .immediate();
  }

  list(f: ListFilter, skip: number, limit: number): { items: ListSummary[]; total: number } {
    const parts: string[] = [];
    const params: unknown[] = [];
    if (f.type !== undefined) {
      parts.push("json_extract(body, '$.type') = ?");
      params.push(f.type);
    }
    if (f.enabled !== undefined) {
      parts.push("json_extract(body, '$.enabled') = ?");
      params.push(f.enabled ? 1 : 0);
    }
    if (f.edge_id !== undefined) {
      parts.push(f.edge_id === null ? 'edge_id IS NULL' : 'edge_id = ?');
      if (f.edge_id !== null) params.push(f.edge_id);
    }
    if (f.visibleTo !== undefined) {
      parts.push(APPLIES);
      params.push(f.visibleTo);
    }
    const where = parts.length ? `WHERE ${parts.join(' AND ')}` : '';
    const rows = this.sql.get(`SELECT ${LIST_COLUMNS} FROM access_lists ${where} ORDER BY created_at, id LIMIT ? OFFSET ?`).all(...params, limit, skip) as ListRow[];
    const total = this.sql.get(`SELECT COUNT(*) FROM access_lists ${where}`).pluck().get(...params) as number;
    return { items: rows.map(summaryOf), total };
  }

  /** Every list edge `edgeId` applies, ordered by id (its config bundle). */
  appliedBy(edgeId: string): ListSummary[] {
    return (this.sql.get(`SELECT ${LIST_COLUMNS} FROM access_lists WHERE ${APPLIES} ORDER BY id`).all(edgeId) as ListRow[]).map(summaryOf);
  }

  /** Whether edge `edgeId` applies list `id` (false when there is no such list). */
  appliesTo(id: string, edgeId: string): boolean {
    return this.sql.get(`SELECT 1 FROM access_lists WHERE id = ? AND ${APPLIES}`).pluck().get(id, edgeId) === 1;
  }

  /** How many lists other than `exceptId` edge `edgeId` applies; null: the lists of every edge alone. */
  countApplied(edgeId: string | null, exceptId: string | null): number {
    if (edgeId === null) return this.sql.get('SELECT COUNT(*) FROM access_lists WHERE edge_id IS NULL AND id IS NOT ?').pluck().get(exceptId) as number;
    return this.sql.get(`SELECT COUNT(*) FROM access_lists WHERE ${APPLIES} AND id IS NOT ?`).pluck().get(edgeId, exceptId) as number;
  }

  /**
   * One page of entries in plate order, as stored JSON text (served as is: no parse and
   * re-serialise of 10,000 entries). `prefix`: normalised plates starting with it.
   */
  page(id: string, skip: number, limit: number, prefix = ''): { bodies: string[]; total: number } {
    if (prefix === '') {
      const bodies = this.sql.get('SELECT body FROM list_entries WHERE list_id = ? ORDER BY plate LIMIT ? OFFSET ?').pluck().all(id, limit, skip) as string[];
      const total = this.sql.get('SELECT entries_count FROM access_lists WHERE id = ?').pluck().get(id) as number;
      return { bodies, total };
    }
    // Plates are A-Z 0-9: every plate starting with the prefix sorts below prefix + '~'.
    const range = [id, prefix, `${prefix}~`];
    const bodies = this.sql.get('SELECT body FROM list_entries WHERE list_id = ? AND plate >= ? AND plate < ? ORDER BY plate LIMIT ? OFFSET ?').pluck().all(...range, limit, skip) as string[];
    const total = this.sql.get('SELECT COUNT(*) FROM list_entries WHERE list_id = ? AND plate >= ? AND plate < ?').pluck().get(...range) as number;
    return { bodies, total };
  }

  /** Up to `limit` entries after plate `after` (null: from the first), in plate order: the CSV export's pages. */
  entriesAfter(id: string, after: string | null, limit: number): ListEntry[] {
    return (this.sql.get('SELECT body FROM list_entries WHERE list_id = ? AND plate > ? ORDER BY plate LIMIT ?').pluck().all(id, after ?? '', limit) as string[]).map(
      (b) => JSON.parse(b) as ListEntry,
    );
  }

  /**
   * Adds `entries` to list `id`, replacing the stored entry of the same plate; plates must be
   * unique among `entries`. `max`: the most entries the list may then hold (413 past it,
   * nothing stored). Undefined: no such list.
   */
  upsert(id: string, entries: readonly ListEntry[], max: number): EntriesChange | undefined {
    return this.db
      .transaction(() => {
        const r = this.row(id);
        if (!r) return undefined;
        const find = this.sql.get('SELECT body FROM list_entries WHERE list_id = ? AND plate = ?').pluck();
        const insert = this.sql.get('INSERT INTO list_entries (list_id, plate, body) VALUES (?, ?, ?)');
        const update = this.sql.get('UPDATE list_entries SET body = ? WHERE list_id = ? AND plate = ?');
        const { writes, added, updated, unchanged } = planEntries(entries, (plate) => find.get(id, plate) as string | undefined);
        if (r.entries_count + added > max) throw tooManyEntries(max, r.entries_count + added);
        for (const w of writes) {
          if (w.isNew) insert.run(id, w.plate, w.text);
          else update.run(w.text, id, w.plate);
        }
        if (added + updated > 0) this.bump(id, added);
        return { list: this.get(id)!, added, updated, removed: 0, unchanged };
      })
      .immediate();
  }

  /** Makes `entries` (plates unique) the list's whole set of entries. Undefined: no such list. */
  replace(id: string, entries: readonly ListEntry[]): EntriesChange | undefined {
    return this.db
      .transaction(() => {
        if (!this.row(id)) return undefined;
        const stored = new Map<string, string>();
        for (const row of this.sql.get('SELECT plate, body FROM list_entries WHERE list_id = ?').raw().iterate(id) as Iterable<[string, string]>) stored.set(row[0], row[1]);
        const insert = this.sql.get('INSERT INTO list_entries (list_id, plate, body) VALUES (?, ?, ?)');
        const update = this.sql.get('UPDATE list_entries SET body = ? WHERE list_id = ? AND plate = ?');
        const remove = this.sql.get('DELETE FROM list_entries WHERE list_id = ? AND plate = ?');
        // Each plate taken out as it is looked up: what is left is what the new set does not hold.
        const { writes, added, updated, unchanged } = planEntries(entries, (plate) => {
          const before = stored.get(plate);
          stored.delete(plate);
          return before;
        });
        // Deleted first, then written.
        for (const plate of stored.keys()) remove.run(id, plate);
        for (const w of writes) {
          if (w.isNew) insert.run(id, w.plate, w.text);
          else update.run(w.text, id, w.plate);
        }
        const removed = stored.size;
        if (added + updated + removed > 0) this.bump(id, added - removed);
        return { list: this.get(id)!, added, updated, removed, unchanged };
      })
      .immediate();
  }

  /** Removes the entry of (normalised) `plate`. Undefined: no such list; false: no such entry. */
  deleteEntry(id: string, plate: string): ListSummary | false | undefined {
    return this.db
      .transaction(() => {
        if (!this.row(id)) return undefined;
        if (this.sql.get('DELETE FROM list_entries WHERE list_id = ? AND plate = ?').run(id, plate).changes === 0) return false;
        this.bump(id, -1);
        return this.get(id)!;
      })
      .immediate();
  }
}

/** 413 naming MAX_LIST_ENTRIES: the list would hold more entries than a list holds. */
export function tooManyEntries(max: number, count?: number): AppError {
  const had = count === undefined ? 'more' : `${count}`;
  return new AppError('PAYLOAD_TOO_LARGE', `A list holds at most ${max} entries (MAX_LIST_ENTRIES); this would make it ${had}: split it into several lists`, {
    extra: { max_entries: max },
  });
}
