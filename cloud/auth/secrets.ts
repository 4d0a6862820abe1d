/**
 * The JWT signing secret: `ANPR_JWT_SECRET` when set, else generated once and kept in the
 * data dir with mode 0600 so tokens survive restarts.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../../shared/errors.js';

export function loadJwtSecret(dataDir: string, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.ANPR_JWT_SECRET;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (fromEnv.length < 32) throw new AppError('CONFIG_INVALID', 'ANPR_JWT_SECRET must be at least 32 characters');
    return fromEnv;
  }
  const file = join(dataDir, 'jwt-secret');
  if (existsSync(file)) {
    chmodSync(file, 0o600);
    return readFileSync(file, 'utf8').trim();
  }
  const secret = randomBytes(48).toString('base64url');
  writeFileSync(file, secret + '\n', { mode: 0o600, flag: 'wx' });
  return secret;
}
