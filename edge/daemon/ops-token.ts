/**
 * The ops HTTP's bearer token: what a client shows to change the outbox through the daemon
 * (`anpr outbox retry|replay`), and to read anything but /healthz when the ops HTTP listens
 * beyond loopback.
 *
 * Where it comes from, first found wins: `$ANPR_EDGE_OPS_TOKEN` (≥16 characters), else the file
 * `http.token_file` (default `<data_dir>/ops-token`). The daemon creates that file when it is
 * missing (32 random bytes as hex, mode 0600, written atomically), so there is always a token;
 * the CLI reads it the same way and never creates it.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AppError } from '../../shared/errors.js';
import type { EdgeConfig } from '../config/schema.js';

export const OPS_TOKEN_ENV = 'ANPR_EDGE_OPS_TOKEN';
const MIN_LENGTH = 16;

export function opsTokenPath(cfg: Pick<EdgeConfig, 'data_dir' | 'http'>): string {
  return cfg.http.token_file ?? join(cfg.data_dir, 'ops-token');
}

function fromEnv(env: NodeJS.ProcessEnv): string | null {
  const v = env[OPS_TOKEN_ENV]?.trim();
  if (!v) return null;
  if (v.length < MIN_LENGTH) throw new AppError('CONFIG_INVALID', `${OPS_TOKEN_ENV} must be at least ${MIN_LENGTH} characters`);
  return v;
}

/** The token, or null when there is none yet (the daemon has never run). For clients. */
export function readOpsToken(cfg: Pick<EdgeConfig, 'data_dir' | 'http'>, env = process.env): string | null {
  const e = fromEnv(env);
  if (e) return e;
  const path = opsTokenPath(cfg);
  if (!existsSync(path)) return null;
  let v: string;
  try {
    v = readFileSync(path, 'utf8').trim();
  } catch (e) {
    throw new AppError('FORBIDDEN', `cannot read the ops token ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): run as a user who can (e.g. sudo -u anpr), or set ${OPS_TOKEN_ENV}`);
  }
  if (v.length < MIN_LENGTH) throw new AppError('CONFIG_INVALID', `the ops token in ${path} is shorter than ${MIN_LENGTH} characters`);
  return v;
}

/** The token, creating the token file when there is none. For the daemon. */
export function ensureOpsToken(cfg: Pick<EdgeConfig, 'data_dir' | 'http'>, env = process.env): string {
  const have = readOpsToken(cfg, env);
  if (have) return have;
  const path = opsTokenPath(cfg);
  const token = randomBytes(32).toString('hex');
  mkdirSync(dirname(path), { recursive: true });
  // Created 0600 from the first byte (never readable by the group, even for a moment), then renamed into place.
  const tmp = `${path}.tmp-${process.pid}`;
  rmSync(tmp, { force: true });
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, token + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  return token;
}
