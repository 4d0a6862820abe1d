/**
 * The demo cloud's admin: `ANPR_ADMIN_USER` / `ANPR_ADMIN_PASSWORD` when given, else `admin` with
 * a password generated on the first run and kept in `<demo data dir>/demo-admin-password` (0600),
 * so each run can sign in to set up the demo and tell the user how to sign in. The demo's cloud
 * is a local throwaway; a real cloud's first admin password is printed once and never kept.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface DemoAdmin {
  user: string;
  password: string;
  /** Where the password is kept (or where it came from). */
  file: string;
}

export function demoAdmin(dataDir: string, env: NodeJS.ProcessEnv = process.env): DemoAdmin {
  const user = env.ANPR_ADMIN_USER || 'admin';
  if (env.ANPR_ADMIN_PASSWORD) return { user, password: env.ANPR_ADMIN_PASSWORD, file: '$ANPR_ADMIN_PASSWORD' };
  const file = join(dataDir, 'demo-admin-password');
  if (existsSync(file)) {
    const kept = readFileSync(file, 'utf8').trim();
    if (kept.length >= 12) return { user, password: kept, file };
  }
  const password = randomBytes(12).toString('base64url');
  writeFileSync(file, password + '\n', { mode: 0o600 });
  return { user, password, file };
}
