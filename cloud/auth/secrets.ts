/**
 * The JWT signing secret: `ANPR_JWT_SECRET` when set; else, on PostgreSQL, one made by the
 * first replica and kept in the database, so a session signed in on one replica is valid on
 * every one; else (SQLite) generated once and kept in the data dir with mode 0600. Either way
 * tokens survive restarts.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../../shared/errors.js';

/** A value all replicas share, made by `make` if none exists yet (DatabaseBackend.shared). */
export type SharedValue = (name: string, make: () => string) => Promise<string>;

const newSecret = () => randomBytes(48).toString('base64url');

export async function loadJwtSecret(dataDir: string, env: NodeJS.ProcessEnv = process.env, shared?: SharedValue): Promise<string> {
  const fromEnv = env.ANPR_JWT_SECRET;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (fromEnv.length < 32) throw new AppError('CONFIG_INVALID', 'ANPR_JWT_SECRET must be at least 32 characters');
    return fromEnv;
  }
  if (shared) return shared('jwt-secret', newSecret);
  const file = join(dataDir, 'jwt-secret');
  if (existsSync(file)) {
    chmodSync(file, 0o600);
    return readFileSync(file, 'utf8').trim();
  }
  const secret = newSecret();
  writeFileSync(file, secret + '\n', { mode: 0o600, flag: 'wx' });
  return secret;
}
