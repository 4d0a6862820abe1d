/**
 * Starts the cloud service: opens the data dir (database, images, JWT secret), creates the
 * first admin when there are no users, and serves HTTP + WebSocket.
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { WebSocketServer } from 'ws';
import { createLogger, type Logger } from '../shared/log.js';
import { VERSION } from '../shared/version.js';
import { EdgeHealth } from './edges/edge-health.js';
import { CloudMetrics } from './metrics/cloud-metrics.js';
import { loadJwtSecret } from './auth/secrets.js';
import { LoginThrottle, type LoginThrottleOptions } from './auth/login-throttle.js';
import { PgLoginThrottle } from './auth/pg-login-throttle.js';
import { PgRateCounts } from './http/pg-rate-counts.js';
import { TrustedProxies } from './auth/trusted-proxies.js';
import { openSqliteBackend } from './store/sqlite-backend.js';
import type { DatabaseBackend } from './store/backend.js';
import { imagesLocation, openImageStore } from './images/open-image-store.js';
import { StreamHub } from './stream/hub.js';
import { LocalStreamBus, type StreamBus } from './stream/bus.js';
import { toApiEvent } from './routes/events.js';
import { DEFAULT_RATE_LIMITS, RateLimiter, rateLimitsFromEnv, type RateLimits } from './http/rate-limit.js';
import { buildApp } from './app.js';
import { DEFAULT_MAX_JSON_BYTES, parseByteLimit } from './http/body-limit.js';
import { parsePublicUrl } from './http/public-url.js';
import type { CloudContext } from './context.js';

export interface CloudOptions {
  host?: string;
  port?: number;
  dataDir: string;
  logger?: Logger;
  env?: NodeJS.ProcessEnv;
  rateLimits?: Partial<RateLimits>;
  tokenTtlS?: number;
  maxImageBytes?: number;
  maxStreamsPerKey?: number;
  /** Lifetime of a web sign-in's refresh tokens (default 14 days). */
  refreshTtlS?: number;
  /** Reverse proxies whose X-Forwarded-For is believed (else `ANPR_TRUSTED_PROXIES`, comma-separated). */
  trustedProxies?: string[];
  /** Per-account sign-in backoff (defaults in cloud/auth/login-throttle.ts). */
  loginThrottle?: Partial<LoginThrottleOptions>;
  /** Model mirror for `POST /recognize` (else `ANPR_MODELS_MIRROR`). */
  modelsMirror?: string;
  /** Models dir for `POST /recognize` (else `ANPR_MODELS_DIR`, else the pipeline's default). */
  modelsDir?: string;
  /** Largest JSON request body in bytes (else ANPR_MAX_JSON_BYTES, else 64 KiB). */
  maxJsonBytes?: number;
  /** Base of the URLs handed out, e.g. https://anpr.example.com (else ANPR_PUBLIC_URL, else relative URLs). */
  publicUrl?: string;
  /** Where images go: a directory or s3://BUCKET/PREFIX (else ANPR_IMAGES_URL, else `<data dir>/images`; cloud/images/open-image-store.ts). */
  imagesUrl?: string;
  /** PostgreSQL database URL (else ANPR_DATABASE_URL, else the SQLite file in the data dir). */
  databaseUrl?: string;
  /** Called once when the first admin is created; `generated` when the password was made up. */
  onAdminCreated?: (username: string, password: string, generated: boolean) => void;
}

export interface RunningCloud {
  url: string;
  port: number;
  ctx: CloudContext;
  close(): Promise<void>;
}

export { openCloudData } from './store/sqlite-backend.js';

/** The PostgreSQL client is loaded only when it is used, as the S3 SDK is. */
async function openPostgres(
  url: string,
  logger: Logger,
  refreshTtlMs: number,
  env: NodeJS.ProcessEnv,
  onEventsDropped: (months: Array<{ to: number }>) => Promise<void>,
): Promise<DatabaseBackend> {
  const { openPgBackend, retentionDaysOf } = await import('./store/pg/pg-backend.js');
  return openPgBackend(url, { logger, refreshTtlMs, retentionDays: retentionDaysOf(env.ANPR_RETENTION_DAYS), onEventsDropped });
}

/** Events to stream subscribers: through the database to every replica on PostgreSQL, else in process. */
async function openStreamBus(database: DatabaseBackend, hub: StreamHub, baseUrl: string, log: Logger): Promise<StreamBus> {
  if (!database.postgres) return new LocalStreamBus(hub);
  const { PgStreamBus } = await import('./stream/pg-stream-bus.js');
  return PgStreamBus.open({
    pool: database.postgres.pool,
    hub,
    log: log.child({ component: 'stream' }),
    fetch: async (id) => {
      const row = await database.stores.events.get(id);
      return row && toApiEvent(row, baseUrl);
    },
  });
}

export async function startCloud(opts: CloudOptions): Promise<RunningCloud> {
  const log = opts.logger ?? createLogger({ name: 'anpr-cloud' });
  const env = opts.env ?? process.env;
  // Settings are checked before anything is opened: a bad one stops the start with its reason.
  const maxJsonBytes = parseByteLimit('the JSON body limit (ANPR_MAX_JSON_BYTES)', opts.maxJsonBytes ?? (env.ANPR_MAX_JSON_BYTES || DEFAULT_MAX_JSON_BYTES));
  const publicUrlSetting = opts.publicUrl ?? (env.ANPR_PUBLIC_URL || undefined);
  const publicUrl = publicUrlSetting === undefined ? undefined : parsePublicUrl(publicUrlSetting);
  const limits = {
    ...DEFAULT_RATE_LIMITS,
    ...rateLimitsFromEnv(env),
    ...Object.fromEntries(Object.entries(opts.rateLimits ?? {}).filter(([, v]) => v !== undefined)),
  };
  const trustedProxies = opts.trustedProxies ? new TrustedProxies(opts.trustedProxies) : TrustedProxies.parse(env.ANPR_TRUSTED_PROXIES);
  const imagesAt = imagesLocation(opts.imagesUrl ?? (env.ANPR_IMAGES_URL || undefined), resolve(opts.dataDir), env);
  const images = await openImageStore(imagesAt, opts.maxImageBytes ?? 5 * 1024 * 1024, (msg) => log.warn(msg));
  const dataDir = resolve(opts.dataDir);
  const refreshTtlMs = (opts.refreshTtlS ?? 14 * 86_400) * 1000;
  const databaseUrl = opts.databaseUrl ?? (env.ANPR_DATABASE_URL || undefined);
  // Images of the months of events dropped by retention (PostgreSQL) go with them.
  const removeDropped = async (months: Array<{ to: number }>) => {
    const removed = await images.removeDaysBefore(Math.max(...months.map((m) => m.to)));
    log.info({ removed }, 'removed the images of events past the retention period');
  };
  if (!databaseUrl && env.ANPR_RETENTION_DAYS) log.warn('ANPR_RETENTION_DAYS is applied on PostgreSQL only (--database-url); this SQLite cloud keeps every event');
  let database: DatabaseBackend;
  try {
    database = databaseUrl
      ? await openPostgres(databaseUrl, log, refreshTtlMs, env, removeDropped)
      : openSqliteBackend(dataDir, refreshTtlMs, log);
  } catch (e) {
    images.close?.();
    throw e;
  }
  const stores = database.stores;
  let jwtSecret: string;
  try {
    jwtSecret = await loadJwtSecret(dataDir, env, database.postgres?.shared);
  } catch (e) {
    await database.close();
    images.close?.();
    throw e;
  }

  if ((await stores.users.count()) === 0) {
    const username = env.ANPR_ADMIN_USER || 'admin';
    const given = env.ANPR_ADMIN_PASSWORD;
    const password = given || randomBytes(12).toString('base64url');
    try {
      await stores.users.create(username, password, 'admin');
      log.info({ username }, 'created the first admin user');
      opts.onAdminCreated?.(username, password, !given);
    } catch (e) {
      // Another replica starting at the same moment created it first.
      if ((await stores.users.count()) === 0) {
        await database.close();
        images.close?.();
        throw e;
      }
    }
  }

  const hub = new StreamHub(log.child({ component: 'stream' }));
  // Replicas on PostgreSQL count each caller's requests together.
  const limiter = new RateLimiter(limits, database.postgres ? new PgRateCounts(database.postgres.pool, log.child({ component: 'rate-limit' })) : undefined);
  const stream = await openStreamBus(database, hub, publicUrl ?? '', log);
  // The tracker and the metrics need each other: the gauge of edges per status reads the tracker.
  let edgeHealth: EdgeHealth | undefined;
  const metrics = new CloudMetrics(() => edgeHealth!.counts(), env.ANPR_METRICS_TOKEN || undefined);
  edgeHealth = new EdgeHealth({ edges: stores.edges, config: stores.config, hub, metrics, log });
  const ctx: CloudContext = {
    database,
    dataDir,
    ...stores,
    edgeHealth,
    metrics,
    images,
    hub,
    stream,
    limiter,
    jwtSecret,
    tokenTtlS: opts.tokenTtlS ?? 3600,
    log,
    version: VERSION,
    startedAt: Date.now(),
    maxStreamsPerKey: opts.maxStreamsPerKey ?? 1,
    loginThrottle: database.postgres ? new PgLoginThrottle(database.postgres.pool, opts.loginThrottle) : new LoginThrottle(opts.loginThrottle),
    trustedProxies,
    modelsMirror: opts.modelsMirror ?? (env.ANPR_MODELS_MIRROR || undefined),
    modelsDir: opts.modelsDir ?? (env.ANPR_MODELS_DIR || undefined),
    maxJsonBytes,
    publicUrl,
    onClose: [],
  };
  let closed = false;
  const sweepImages = async () => {
    const swept = await ctx.images.sweep((id, rel) => {
      if (closed) throw new Error('the service is stopping');
      return ctx.events.ownsImage(id, rel);
    });
    if (swept.removed.length) log.warn({ removed: swept.removed.length, kept: swept.kept }, 'removed images a crash left behind');
    if (swept.unknown.length) log.warn({ files: swept.unknown.slice(0, 20), count: swept.unknown.length }, 'entries in the image store that the service did not write; left alone');
  };
  // Local files: before listening (an image written for an event not yet committed would look
  // orphaned). An object store's sweep judges only old objects and runs beside ingest.
  if (ctx.images.sweepsBeforeListening) await sweepImages();
  await edgeHealth.start();
  const app = buildApp(ctx);
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const server = await new Promise<ReturnType<typeof serve>>((res, rej) => {
    const s = serve({ fetch: app.fetch, port: opts.port ?? 8000, hostname: opts.host ?? '127.0.0.1', websocket: { server: wss } }, () => res(s));
    s.once('error', rej);
  });
  // Edges heartbeat every few seconds and poll their config: an idle connection is kept longer
  // than that (Node's default is 5 s), so each beat reuses one instead of a new TCP setup.
  const http = server as unknown as { keepAliveTimeout: number; headersTimeout: number };
  http.keepAliveTimeout = 65_000;
  http.headersTimeout = Math.max(http.headersTimeout, 66_000);
  const port = (server.address() as AddressInfo).port;
  const host = opts.host ?? '127.0.0.1';
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  log.info({ url, data_dir: dataDir, database: database.kind, images: ctx.images.location, public_url: publicUrl ?? null }, 'cloud service listening');
  const backgroundSweep = ctx.images.sweepsBeforeListening
    ? Promise.resolve()
    : sweepImages().catch((e) => {
        if (!closed) log.warn({ err: (e as Error).message }, 'image store sweep failed; it runs again at the next start');
      });

  return {
    url,
    port,
    ctx,
    async close() {
      if (closed) return;
      closed = true;
      await ctx.edgeHealth.stop();
      ctx.hub.closeAll();
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
      await new Promise<void>((r) => {
        server.close(() => r());
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
      for (const fn of ctx.onClose) await fn();
      await backgroundSweep;
      await stream.close();
      await limiter.close();
      await database.close();
      ctx.images.close?.();
      log.info('cloud service stopped');
    },
  };
}
