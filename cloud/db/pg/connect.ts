/**
 * Opens the cloud's PostgreSQL connection pool from the database URL
 * (`--database-url` / ANPR_DATABASE_URL) and says whether the database answers.
 *
 * Guarantees:
 * - A setting that can never work fails at once with CONFIG_INVALID naming the setting: a
 *   wrong scheme or a URL that does not parse (database-url.ts), a user or password the server
 *   refuses (SQLSTATE 28P01, 28000), a database that does not exist (3D000), a user without
 *   the right to connect (42501), a host name that does not resolve (ENOTFOUND).
 * - A database that is not up yet (connection refused or reset, no socket file, no route, a
 *   connect that times out, "starting up" 57P03, shutting down 57P01/57P02, too many
 *   connections 53300) is tried again after waits of 250 ms, doubling up to 10 s each, every
 *   wait drawn uniformly in [d/2, d] (equal jitter: replicas restarted together spread out),
 *   for at most `retry.forMs` (default 60 s: 11 to 17 tries). Each failed try is logged at
 *   warn with the masked URL, the error and the next wait. Past the bound: SERVICE_UNAVAILABLE
 *   with the last error. `signal` ends the wait at once (rejecting with its reason); the pool
 *   is created only after a first connection succeeded, so nothing is left open then.
 * - No message or log line holds the password: the URL is shown through `redactUrl`, and
 *   the logger masks URLs in every field (shared/log.ts).
 * - `probe()` never throws and is bounded (connect timeout + query timeout): `/healthz` can
 *   call it on every request.
 * - A pooled connection the server drops, idle or in use (restart, failover), is logged (idle)
 *   or fails its query, and is replaced on next use; it never becomes an uncaught 'error' that
 *   ends the process.
 * - bigint (int8) columns are read as JavaScript numbers: every bigint the cloud stores (ms
 *   timestamps, sequence numbers, counters, COUNT(*)) is far below 2^53. numeric (SUM of a
 *   bigint, AVG) stays a string: cast it in SQL (::bigint, ::float8) where a number is wanted.
 */
import pg from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError } from '../../../shared/errors.js';
import { redactUrl, silentLogger, type Logger } from '../../../shared/log.js';
import { DATABASE_URL_SETTING, parseDatabaseUrl, type DatabaseUrl } from './database-url.js';

export interface RetrySchedule {
  /** First wait (ms); each next one doubles. */
  initialMs: number;
  /** Longest single wait (ms). */
  maxMs: number;
  /** Give up once this long (ms) has passed since the first try; Infinity = never. */
  forMs: number;
}

export const DEFAULT_RETRY: RetrySchedule = { initialMs: 250, maxMs: 10_000, forMs: 60_000 };

export interface PgOptions {
  /** How the URL was given, for messages (default `--database-url / ANPR_DATABASE_URL`). */
  setting?: string;
  logger?: Logger;
  /** Cancels the wait for a database that is not up yet. */
  signal?: AbortSignal;
  retry?: Partial<RetrySchedule>;
  /** Connections in the pool (default 10). */
  max?: number;
  /** Server-side bound of one statement (default 15 s). */
  statementTimeoutMs?: number;
  /** Bound of one connect, and of a wait for a free pooled connection (default 5 s). */
  connectTimeoutMs?: number;
  /** What `pg_stat_activity` shows for these connections (default `anpr-cloud`). */
  applicationName?: string;
  /** For tests of the schedule: uniform in [0, 1). */
  random?: () => number;
}

export type PgProbe = { ok: true; latency_ms: number } | { ok: false; error: string };

export interface PgDatabase {
  pool: pg.Pool;
  /** The database URL with its credentials masked. */
  url: string;
  /** `SELECT 1` through the pool; never throws. */
  probe(): Promise<PgProbe>;
  close(): Promise<void>;
}

/** Wait before try number `attempt + 1` (0-based): min(max, initial·2^attempt), drawn in [d/2, d]. */
export function retryDelay(attempt: number, s: RetrySchedule, random: () => number = Math.random): number {
  const d = Math.min(s.maxMs, s.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(d / 2 + random() * (d / 2));
}

const INT8_OID = 20;
const parseInt8 = (v: string) => Number(v);
/** Per pool, so other users of `pg` in the process keep the driver's defaults. */
const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary' ? parseInt8 : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/** Error codes (Node's and SQLSTATE) of a database that may answer on a later try. */
const TRANSIENT = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOENT', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EPIPE', '57P01', '57P02', '57P03', '53300', '08001', '08006']);

function errorCode(e: unknown): string | undefined {
  const x = e as { code?: unknown; errors?: Array<{ code?: unknown }> };
  if (typeof x?.code === 'string') return x.code;
  // Node's happy-eyeballs connect (a host with IPv4 and IPv6 addresses) fails with an AggregateError.
  const inner = x?.errors?.find((i) => typeof i?.code === 'string')?.code;
  return typeof inner === 'string' ? inner : undefined;
}

const messageOf = (e: unknown) => redactUrl(e instanceof Error ? e.message || String(errorCode(e) ?? e.name) : String(e));

/** A failed connect as the error to throw now, or null when a later try may succeed. */
export function connectFailure(e: unknown, db: DatabaseUrl, setting: string): AppError | null {
  const code = errorCode(e);
  const msg = messageOf(e);
  if (code === '28P01' || code === '28000') {
    return new AppError('CONFIG_INVALID', `The user/password in the database URL (${setting}) were refused by ${db.display}: ${msg}`);
  }
  if (code === '3D000') {
    return new AppError('CONFIG_INVALID', `The database in the database URL (${setting}) does not exist on the server: ${msg}; create it (createdb) or fix the URL ${db.display}`);
  }
  if (code === '42501') {
    return new AppError('CONFIG_INVALID', `The user in the database URL (${setting}) may not connect to that database: ${msg} (${db.display})`);
  }
  if (code === 'ENOTFOUND') {
    return new AppError('CONFIG_INVALID', `The host in the database URL (${setting}) does not resolve: ${db.host} (${db.display})`);
  }
  // node-postgres's own connect timeout, and a server that closed the connection during start-up.
  if ((code && TRANSIENT.has(code)) || /timeout expired|Connection terminated/i.test(msg)) return null;
  return new AppError('SERVICE_UNAVAILABLE', `Cannot use the database at ${db.display} (${setting}): ${msg}`);
}

/** One connect with a fresh client, raced against `signal`; the client is always ended. */
async function tryConnect(config: pg.ClientConfig, signal: AbortSignal | undefined): Promise<string> {
  const client = new pg.Client(config);
  client.on('error', () => {}); // an error after connect (server gone) is answered by the query below
  const attempt = (async () => {
    try {
      await client.connect();
      return ((await client.query('SHOW server_version')).rows[0] as { server_version: string }).server_version;
    } finally {
      await client.end().catch(() => {});
    }
  })();
  if (!signal) return attempt;
  attempt.catch(() => {}); // settled in the background when the signal wins
  return Promise.race([attempt, new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  })]);
}

/**
 * Opens the pool once the database answers (see the guarantees above). Rejects with
 * CONFIG_INVALID or SERVICE_UNAVAILABLE, or with `signal.reason` when cancelled.
 */
export async function openPgPool(url: string, opts: PgOptions = {}): Promise<PgDatabase> {
  const setting = opts.setting ?? DATABASE_URL_SETTING;
  const db = parseDatabaseUrl(url, setting);
  const log = (opts.logger ?? silentLogger).child({ component: 'postgres' });
  const schedule = { ...DEFAULT_RETRY, ...opts.retry };
  const statementTimeout = opts.statementTimeoutMs ?? 15_000;
  const config: pg.PoolConfig = {
    // Values given in the URL's query (application_name, sslmode…) win over these.
    connectionString: db.connectionString,
    // Shown in pg_stat_activity and the server's logs: whose connections these are.
    application_name: opts.applicationName ?? 'anpr-cloud',
    max: opts.max ?? 10,
    // A server that accepts TCP but never answers (a firewall drop, a host gone) fails a
    // connect, or a wait for a free pooled connection, in seconds instead of hanging ingest.
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 5_000,
    // A statement stuck behind a lock or a runaway search ends with an error (a 503 to the
    // client) instead of holding a pooled connection and its locks.
    statement_timeout: statementTimeout,
    // The same bound on our side, for a server that stopped answering (network cut) and so
    // cannot enforce statement_timeout.
    query_timeout: statementTimeout + 5_000,
    // A transaction left open by a bug releases its locks (the partition DDL and the
    // migrations wait on them) instead of holding them for ever.
    idle_in_transaction_session_timeout: 60_000,
    idleTimeoutMillis: 30_000,
    // Half-open TCP connections (a server host that died) are noticed by the kernel.
    keepAlive: true,
    types: TYPES,
  };
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    if (opts.signal?.aborted) throw opts.signal.reason;
    try {
      const version = await tryConnect(config, opts.signal);
      log.info({ database: db.display, server_version: version, tries: attempt + 1 }, 'database connected');
      break;
    } catch (e) {
      if (opts.signal?.aborted) throw opts.signal.reason;
      const fatal = connectFailure(e, db, setting);
      if (fatal) throw fatal;
      const wait = retryDelay(attempt, schedule, opts.random);
      if (Date.now() - started + wait > schedule.forMs) {
        throw new AppError('SERVICE_UNAVAILABLE', `The database at ${db.display} (${setting}) did not answer in ${Math.round((Date.now() - started) / 1000)} s (${attempt + 1} tries): ${messageOf(e)}`, { extra: { retry_after_seconds: 5 } });
      }
      log.warn({ database: db.display, code: errorCode(e), error: messageOf(e), try: attempt + 1, retry_in_ms: wait }, 'database not reachable yet; retrying');
      try {
        await sleep(wait, undefined, { signal: opts.signal });
      } catch {
        throw opts.signal!.reason;
      }
    }
  }
  const pool = new pg.Pool(config);
  pool.on('error', (e) => log.warn({ database: db.display, code: errorCode(e), error: messageOf(e) }, 'an idle database connection failed; it will be replaced'));
  // A connection the server ends reports it twice ("terminating connection…", then "Connection
  // terminated unexpectedly"), and the pool listens for the first only; a checked-out connection
  // reports to its query. A listener of our own on every connection keeps a later report from
  // becoming an uncaught 'error' that ends the process.
  pool.on('connect', (client) => client.on('error', () => {}));
  return {
    pool,
    url: db.display,
    async probe() {
      const t0 = performance.now();
      try {
        await pool.query('SELECT 1');
        return { ok: true, latency_ms: Math.round((performance.now() - t0) * 10) / 10 };
      } catch (e) {
        return { ok: false, error: messageOf(e) };
      }
    },
    close: () => pool.end(),
  };
}
