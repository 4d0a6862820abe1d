/** What the tests of `anpr cloud migrate` (cloud/store/pg/migrate-from-sqlite.ts) share. */
import type { Test } from 'tap';
import pg from 'pg';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IMPORT_TABLES } from '../../../cloud/store/pg/sqlite-import-tables.js';

/** A pool on `url`, closed with `t`. */
export function poolOf(t: Test, url: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  t.teardown(() => pool.end());
  return pool;
}

/** A temporary directory, removed with `t`. */
export function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'anpr-migrate-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The tables of the database (the events' partitions left out). */
export async function tablesIn(pool: pg.Pool): Promise<string[]> {
  const r = await pool.query<{ t: string }>("SELECT tablename AS t FROM pg_tables WHERE schemaname = current_schema() AND tablename NOT LIKE 'events\\_%' ORDER BY 1");
  return r.rows.map((x) => x.t);
}

/** Every row of every copied table, in one order: what two copies are compared by. */
export async function dump(pool: pg.Pool): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const table of [...IMPORT_TABLES.map((x) => x.name), 'event_ids']) {
    out[table] = (await pool.query(`SELECT * FROM ${table} r ORDER BY r::text COLLATE "C"`)).rows;
  }
  return out;
}
