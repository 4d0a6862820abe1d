/**
 * Opens an existing cloud data dir for an admin command (`anpr apikey`, `anpr user`).
 *
 * Guarantee: an admin command never creates a data dir or a database. A wrong `--data-dir`
 * is refused with RESOURCE_NOT_FOUND naming the path, instead of silently answering from a
 * new, empty database (and leaving it behind). Only `anpr cloud` creates a data dir.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AppError } from '../shared/errors.js';

/** The database file `openCloudData` (cloud/server.ts) keeps in a data dir. */
const DB_FILE = 'anpr.db';

import type { CloudData } from '../cloud/store/sqlite-backend.js';

export type { CloudData };

/** Runs `fn` with the data dir's stores open and closes the database after, refusing a dir that holds no cloud database. */
export async function withCloudData<T>(dataDir: string, fn: (d: CloudData) => T | Promise<T>): Promise<T> {
  const dir = resolve(dataDir);
  if (!existsSync(join(dir, DB_FILE))) {
    throw new AppError('RESOURCE_NOT_FOUND', `no cloud data in ${dir} (no ${DB_FILE}): check --data-dir; \`anpr cloud --data-dir DIR\` creates it on its first start`);
  }
  const { openCloudData } = await import('../cloud/server.js');
  const d = openCloudData(dir);
  try {
    return await fn(d);
  } finally {
    d.db.close();
  }
}
