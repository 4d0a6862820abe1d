/**
 * The dictionary of distinct plate texts (tables `plates` and `plates_fts`, a trigram
 * index). Partial plate searches run against it instead of against every event.
 */
import type { Db } from '../db/open.js';

/** Adds plate texts to the dictionary; cheap for plates it already has. */
export function plateRecorder(db: Db): (plateText: string) => void {
  const add = db.prepare('INSERT INTO plates (plate_text) VALUES (?) ON CONFLICT (plate_text) DO NOTHING');
  const index = db.prepare('INSERT INTO plates_fts (rowid, plate_text) VALUES (?, ?)');
  return (plateText) => {
    const r = add.run(plateText);
    if (r.changes > 0) index.run(r.lastInsertRowid, plateText);
  };
}

/**
 * Whether a partial plate search for `q` goes through the trigram index, whose matching folds
 * the case of every cased letter; a shorter one goes through LIKE, which folds ASCII only.
 */
export function usesTrigrams(q: string): boolean {
  return [...q].length >= 3;
}

/**
 * SQL condition on events.plate_text for a partial, case-insensitive match of `q`: the
 * trigram index for three characters or more, a scan of the distinct plates below that.
 */
export function plateContains(q: string): { sql: string; param: string } {
  if (usesTrigrams(q)) {
    // Quoted, so user text is never FTS syntax.
    return {
      sql: 'plate_text IN (SELECT plate_text FROM plates WHERE id IN (SELECT rowid FROM plates_fts WHERE plates_fts MATCH ?))',
      param: `"${q.replace(/"/g, '""')}"`,
    };
  }
  return {
    sql: "plate_text IN (SELECT plate_text FROM plates WHERE plate_text LIKE ? ESCAPE '\\')",
    param: `%${q.replace(/[\\%_]/g, (m) => '\\' + m)}%`,
  };
}
