/**
 * Access lists and their entries on PostgreSQL: the counterpart of SqliteListsStore
 * (cloud/store/lists-store.ts), with its answers: the same summaries, ids, errors, filters,
 * order, paging, totals, versions and edge scopes (test/cloud/store/lists-contract.test.ts runs
 * one suite against both). Entries are stored canonically by lists-store.ts `entryText`.
 *
 * Guarantees (those of lists-store.ts, kept across replicas):
 * - Every change of a list or of its entries is one transaction: a 200,000-entry import is
 *   all stored or none of it, and a reader (a page, the export) never sees half of a change.
 * - A change first locks the list's row (SELECT … FOR UPDATE): changes of one list, from any
 *   replica, apply one after the other, so the counts it reports (added, updated, removed) and
 *   `entries_count` are exact, and the limit of an upsert is checked against what is stored.
 * - `version` is the config generation the list's last change raised it to. The generation's
 *   one row stays locked from that raise to the commit, so versions rise in commit order, and
 *   are never reused (also not by a list deleted and created again with the same id). Every
 *   change raises the generation once, as in SQLite; a change that changes nothing (same
 *   fields, entries equal to the stored ones) raises nothing and keeps the version.
 * - Generated ids (list-001, …) come from `id_counters` as config-store's do: distinct across
 *   replicas creating at once, ids taken skipped; a given id that is taken is a 409.
 * - Bulk entries travel as arrays (`unnest`) in batches of `BATCH_ROWS`: a 200,000-entry
 *   replace is a few dozen statements, not one per entry.
 * - Plates compare and sort by byte (COLLATE "C"): pages, prefixes and the export's keyset
 *   order as in SQLite.
 * - A database that cannot answer now is a 503 SERVICE_UNAVAILABLE with Retry-After (pgFailure).
 */
import type pg from 'pg';
import type { ListsStore } from '../contracts.js';
import {
  LIST_COLUMNS,
  duplicateList,
  entryText,
  fieldsText,
  listId,
  planEntries,
  summaryOf,
  tooManyEntries,
  type EntriesChange,
  type EntriesPlan,
  type ListFilter,
  type ListRow,
} from '../lists-store.js';
import { inTransaction } from '../../db/pg/transaction.js';
import type { ListEntry, ListSummary, ListUpdate } from '../../../shared/schemas/lists.js';
import { Params, batches, pageWithTotal, query } from './sql.js';

const APPLIES = (edge: string) => `(edge_id IS NULL OR edge_id = ${edge})`;

/** The filter columns of a list's fields (SQLite reads them out of the body with json_extract). */
function filterColumns(f: ListUpdate): [string | null, number | null] {
  return [typeof f.type === 'string' ? f.type : null, typeof f.enabled === 'boolean' ? Number(f.enabled) : null];
}

/** The list's row, locked until the transaction ends; undefined: no such list. */
async function lockRow(c: pg.PoolClient, id: string): Promise<ListRow | undefined> {
  return (await c.query<ListRow>(`SELECT ${LIST_COLUMNS} FROM access_lists WHERE id = $1 FOR UPDATE`, [id])).rows[0];
}

/** Raises the config generation, makes it the list's version and adds `delta` to entries_count; the list after. */
async function bump(c: pg.PoolClient, id: string, delta: number): Promise<ListSummary> {
  const { rows } = await c.query<ListRow>(
    `WITH g AS (UPDATE config_generation SET n = n + 1 WHERE id = 1 RETURNING n)
     UPDATE access_lists SET version = g.n, entries_count = entries_count + $2, updated_at = $3 FROM g
     WHERE access_lists.id = $1 RETURNING ${LIST_COLUMNS}`,
    [id, delta, new Date().toISOString()],
  );
  return summaryOf(rows[0]!);
}

/** Inserts entries given as (plate, text) pairs, in batches; a plate stored already is a unique violation, as in SQLite. */
async function insertEntries(c: pg.PoolClient, id: string, rows: ReadonlyArray<{ plate: string; text: string }>): Promise<void> {
  for (const b of batches(rows)) {
    await c.query('INSERT INTO list_entries (list_id, plate, body) SELECT $1, u.plate, u.body FROM unnest($2::text[], $3::text[]) AS u (plate, body)', [
      id,
      b.map((r) => r.plate),
      b.map((r) => r.text),
    ]);
  }
}

/** Writes a plan's entries: new plates inserted, stored ones given their new text. */
async function writePlan(c: pg.PoolClient, id: string, plan: EntriesPlan): Promise<void> {
  await insertEntries(c, id, plan.writes.filter((w) => w.isNew));
  for (const b of batches(plan.writes.filter((w) => !w.isNew))) {
    await c.query('UPDATE list_entries e SET body = u.body FROM unnest($2::text[], $3::text[]) AS u (plate, body) WHERE e.list_id = $1 AND e.plate = u.plate', [
      id,
      b.map((w) => w.plate),
      b.map((w) => w.text),
    ]);
  }
}

/** `ListsStore` on PostgreSQL: the behaviour of SqliteListsStore (see the module header). */
export class PgListsStore implements ListsStore {
  private readonly pool: pg.Pool;

  /** Stores the pool (cloud/db/pg/connect.ts `openPgPool`, migrated); no query is made. */
  constructor(pool: pg.Pool) {
    this.pool = pool;
  }

  async get(id: string): Promise<ListSummary | undefined> {
    const rows = await query<ListRow>(this.pool, `SELECT ${LIST_COLUMNS} FROM access_lists WHERE id = $1`, [id]);
    return rows.length ? summaryOf(rows[0]!) : undefined;
  }

  /** The current version of list `id`, or undefined (one indexed read: every entries page asks). */
  async version(id: string): Promise<string | undefined> {
    const rows = await query<{ version: number }>(this.pool, 'SELECT version FROM access_lists WHERE id = $1', [id]);
    return rows.length ? String(rows[0]!.version) : undefined;
  }

  /**
   * Creates a list with its entries (already validated, plates unique) in one transaction:
   * `id`, or the next free generated one; a taken `id` is a 409 DUPLICATE_RESOURCE.
   */
  async create(id: string | null, fields: ListUpdate, entries: readonly ListEntry[]): Promise<ListSummary> {
    return inTransaction(this.pool, async (c) => {
      const now = new Date().toISOString();
      const insert = async (newId: string) =>
        (
          await c.query(
            `INSERT INTO access_lists (id, body, edge_id, version, entries_count, created_at, updated_at, type, enabled)
             VALUES ($1, $2, $3, 0, 0, $4, $4, $5, $6) ON CONFLICT (id) DO NOTHING`,
            [newId, fieldsText(fields), fields.edge_id, now, ...filterColumns(fields)],
          )
        ).rowCount === 1;
      let newId = id;
      if (newId !== null) {
        if (!(await insert(newId))) throw duplicateList(newId);
      } else {
        for (;;) {
          const { rows } = await c.query<{ n: number }>(
            "INSERT INTO id_counters (kind, next) VALUES ('lists', 2) ON CONFLICT (kind) DO UPDATE SET next = id_counters.next + 1 RETURNING next - 1 AS n",
          );
          newId = listId(Number(rows[0]!.n));
          if (await insert(newId)) break;
        }
      }
      await insertEntries(c, newId, entries.map((e) => ({ plate: e.plate, text: entryText(e) })));
      return bump(c, newId, entries.length);
    });
  }

  /** Replaces the list's fields; the version moves only when they differ. Undefined: no such list. */
  async update(id: string, fields: ListUpdate): Promise<ListSummary | undefined> {
    return inTransaction(this.pool, async (c) => {
      const r = await lockRow(c, id);
      if (!r) return undefined;
      const text = fieldsText(fields);
      if (text === r.body) return summaryOf(r);
      await c.query('UPDATE access_lists SET body = $2, edge_id = $3, type = $4, enabled = $5 WHERE id = $1', [id, text, fields.edge_id, ...filterColumns(fields)]);
      return bump(c, id, 0);
    });
  }

  /** Deletes a list and its entries; raises the generation (the edges applying it drop it). */
  async delete(id: string): Promise<boolean> {
    return inTransaction(this.pool, async (c) => {
      // The entries go with it (ON DELETE CASCADE).
      if ((await c.query('DELETE FROM access_lists WHERE id = $1', [id])).rowCount === 0) return false;
      await c.query('UPDATE config_generation SET n = n + 1 WHERE id = 1');
      return true;
    });
  }

  /** One page of the lists matching `f`, by creation time then id, and how many match. */
  async list(f: ListFilter, skip: number, limit: number): Promise<{ items: ListSummary[]; total: number }> {
    const p = new Params();
    const parts = ['true'];
    if (f.type !== undefined) parts.push(`type = ${p.add(f.type)}`);
    if (f.enabled !== undefined) parts.push(`enabled = ${p.add(f.enabled ? 1 : 0)}`);
    if (f.edge_id !== undefined) parts.push(f.edge_id === null ? 'edge_id IS NULL' : `edge_id = ${p.add(f.edge_id)}`);
    if (f.visibleTo !== undefined) parts.push(APPLIES(p.add(f.visibleTo)));
    const { rows, total } = await pageWithTotal<ListRow>(this.pool, 'access_lists', parts.join(' AND '), p, LIST_COLUMNS, 'created_at, id', skip, limit);
    return { items: rows.map(summaryOf), total };
  }

  /** Every list edge `edgeId` applies, ordered by id (its config bundle). */
  async appliedBy(edgeId: string): Promise<ListSummary[]> {
    return (await query<ListRow>(this.pool, `SELECT ${LIST_COLUMNS} FROM access_lists WHERE ${APPLIES('$1')} ORDER BY id`, [edgeId])).map(summaryOf);
  }

  /** Whether edge `edgeId` applies list `id` (false when there is no such list). */
  async appliesTo(id: string, edgeId: string): Promise<boolean> {
    return (await query(this.pool, `SELECT 1 FROM access_lists WHERE id = $1 AND ${APPLIES('$2')}`, [id, edgeId])).length === 1;
  }

  /** How many lists other than `exceptId` edge `edgeId` applies; null: the lists of every edge alone. */
  async countApplied(edgeId: string | null, exceptId: string | null): Promise<number> {
    const rows =
      edgeId === null
        ? await query<{ n: number }>(this.pool, 'SELECT count(*)::int AS n FROM access_lists WHERE edge_id IS NULL AND id IS DISTINCT FROM $1', [exceptId])
        : await query<{ n: number }>(this.pool, `SELECT count(*)::int AS n FROM access_lists WHERE ${APPLIES('$1')} AND id IS DISTINCT FROM $2`, [edgeId, exceptId]);
    return rows[0]!.n;
  }

  /**
   * One page of entries in plate order, as stored JSON text, and the total; `prefix`: normalised
   * plates starting with it. One statement: the total and the page are of one snapshot. As in
   * SQLite, an unknown list gives no entries and, without a prefix, no total (callers ask after
   * finding the list).
   */
  async page(id: string, skip: number, limit: number, prefix = ''): Promise<{ bodies: string[]; total: number }> {
    // Plates are A-Z 0-9: every plate starting with the prefix sorts below prefix + '~'.
    const range = prefix === '' ? '' : 'AND plate >= $4 AND plate < $5';
    const total = prefix === '' ? 'SELECT entries_count FROM access_lists WHERE id = $1' : `SELECT count(*)::int FROM list_entries WHERE list_id = $1 ${range}`;
    const rows = await query<{ total: number | null; bodies: string[] }>(
      this.pool,
      `SELECT (${total}) AS total, ARRAY(SELECT body FROM list_entries WHERE list_id = $1 ${range} ORDER BY plate LIMIT $2 OFFSET $3) AS bodies`,
      prefix === '' ? [id, limit, skip] : [id, limit, skip, prefix, `${prefix}~`],
    );
    return { bodies: rows[0]!.bodies, total: (rows[0]!.total ?? undefined) as number };
  }

  /** Up to `limit` entries after plate `after` (null: from the first), in plate order: the CSV export's pages. */
  async entriesAfter(id: string, after: string | null, limit: number): Promise<ListEntry[]> {
    const rows = await query<{ body: string }>(this.pool, 'SELECT body FROM list_entries WHERE list_id = $1 AND plate > $2 ORDER BY plate LIMIT $3', [id, after ?? '', limit]);
    return rows.map((r) => JSON.parse(r.body) as ListEntry);
  }

  /**
   * Adds `entries` to list `id`, replacing the stored entry of the same plate; plates must be
   * unique among `entries`. `max`: the most entries the list may then hold (413 past it,
   * nothing stored). Undefined: no such list.
   */
  async upsert(id: string, entries: readonly ListEntry[], max: number): Promise<EntriesChange | undefined> {
    return inTransaction(this.pool, async (c) => {
      const r = await lockRow(c, id);
      if (!r) return undefined;
      const stored = new Map<string, string>();
      for (const b of batches(entries)) {
        const found = await c.query<[string, string]>({
          text: 'SELECT e.plate, e.body FROM list_entries e JOIN unnest($2::text[]) AS u (plate) ON e.plate = u.plate WHERE e.list_id = $1',
          values: [id, b.map((e) => e.plate)],
          rowMode: 'array',
        });
        for (const [plate, body] of found.rows) stored.set(plate, body);
      }
      const plan = planEntries(entries, (plate) => stored.get(plate));
      if (r.entries_count + plan.added > max) throw tooManyEntries(max, r.entries_count + plan.added);
      await writePlan(c, id, plan);
      const list = plan.added + plan.updated > 0 ? await bump(c, id, plan.added) : summaryOf(r);
      return { list, added: plan.added, updated: plan.updated, removed: 0, unchanged: plan.unchanged };
    });
  }

  /** Makes `entries` (plates unique) the list's whole set of entries. Undefined: no such list. */
  async replace(id: string, entries: readonly ListEntry[]): Promise<EntriesChange | undefined> {
    return inTransaction(this.pool, async (c) => {
      const r = await lockRow(c, id);
      if (!r) return undefined;
      const stored = new Map<string, string>();
      const all = await c.query<[string, string]>({ text: 'SELECT plate, body FROM list_entries WHERE list_id = $1', values: [id], rowMode: 'array' });
      for (const [plate, body] of all.rows) stored.set(plate, body);
      // Each plate taken out as it is looked up: what is left is what the new set does not hold.
      const plan = planEntries(entries, (plate) => {
        const before = stored.get(plate);
        stored.delete(plate);
        return before;
      });
      const removed = [...stored.keys()];
      for (const b of batches(removed)) await c.query('DELETE FROM list_entries WHERE list_id = $1 AND plate = ANY ($2::text[])', [id, b]);
      await writePlan(c, id, plan);
      const list = plan.added + plan.updated + removed.length > 0 ? await bump(c, id, plan.added - removed.length) : summaryOf(r);
      return { list, added: plan.added, updated: plan.updated, removed: removed.length, unchanged: plan.unchanged };
    });
  }

  /** Removes the entry of (normalised) `plate`. Undefined: no such list; false: no such entry. */
  async deleteEntry(id: string, plate: string): Promise<ListSummary | false | undefined> {
    return inTransaction(this.pool, async (c) => {
      if (!(await lockRow(c, id))) return undefined;
      if ((await c.query('DELETE FROM list_entries WHERE list_id = $1 AND plate = $2', [id, plate])).rowCount === 0) return false;
      return bump(c, id, -1);
    });
  }
}
