/**
 * This installation's identity: a random UUID kept in `<data_dir>/instance-id`, created once
 * (0600) and read on every start. The cloud tells two boxes configured with the same edge id
 * apart by it (409 EDGE_ID_IN_USE to the second); a box keeps it across restarts and upgrades,
 * and a copied data dir (a cloned SD card) is the one case where two boxes share it.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const VALID = /^[A-Za-z0-9-]{8,64}$/;

export function instanceIdPath(dataDir: string): string {
  return join(dataDir, 'instance-id');
}

/** The instance id in `dataDir`, created when missing or unreadable as one. */
export function ensureInstanceId(dataDir: string): string {
  const file = instanceIdPath(dataDir);
  try {
    const id = readFileSync(file, 'utf8').trim();
    if (VALID.test(id)) return id;
  } catch {
    /* first start */
  }
  mkdirSync(dataDir, { recursive: true });
  const id = randomUUID();
  // `wx` never overwrites one written concurrently (a second process starting at the same time).
  try {
    writeFileSync(file, id + '\n', { mode: 0o600, flag: 'wx' });
    return id;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    const other = readFileSync(file, 'utf8').trim();
    if (VALID.test(other)) return other;
    writeFileSync(file, id + '\n', { mode: 0o600 });
    return id;
  }
}
