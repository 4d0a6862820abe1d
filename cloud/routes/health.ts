/**
 * Health: `/healthz` (public) checks the database and the image storage for real and
 * answers 503 when either fails; `/healthz/detailed` (signed in) adds their details and
 * service metrics.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { CloudContext } from '../context.js';
import { requireAuth } from '../auth/middleware.js';
import type { Env } from '../http/types.js';
import { doc } from '../http/docs.js';

interface Component {
  status: 'healthy' | 'unhealthy';
  response_time_ms?: number;
  error?: string;
  details?: Record<string, unknown>;
}

const ms = (t0: bigint) => Math.round(Number(process.hrtime.bigint() - t0) / 1e4) / 100;

function checkDatabase(ctx: CloudContext, detailed: boolean): Component {
  const t0 = process.hrtime.bigint();
  try {
    ctx.db.prepare('SELECT 1').get();
    const c: Component = { status: 'healthy', response_time_ms: ms(t0) };
    if (detailed) {
      const size = (f: string) => {
        try {
          return statSync(f).size;
        } catch {
          return 0;
        }
      };
      c.details = {
        engine: 'sqlite',
        file: ctx.dbFile,
        size_bytes: size(ctx.dbFile),
        wal_bytes: size(`${ctx.dbFile}-wal`),
        journal_mode: ctx.db.pragma('journal_mode', { simple: true }),
        last_check: new Date().toISOString(),
      };
    }
    return c;
  } catch (e) {
    return { status: 'unhealthy', error: (e as Error).message };
  }
}

function checkStorage(ctx: CloudContext, detailed: boolean): Component {
  const t0 = process.hrtime.bigint();
  const probe = join(ctx.images.root, `.health-${randomBytes(4).toString('hex')}`);
  try {
    const data = randomBytes(16);
    writeFileSync(probe, data);
    const back = readFileSync(probe);
    rmSync(probe, { force: true });
    if (!back.equals(data)) throw new Error('read-back mismatch');
    const fs = statfsSync(ctx.images.root);
    const free = fs.bavail * fs.bsize;
    const c: Component = { status: free < 64 * 1024 * 1024 ? 'unhealthy' : 'healthy', response_time_ms: ms(t0) };
    if (c.status === 'unhealthy') c.error = 'less than 64 MiB of disk left';
    if (detailed) c.details = { path: ctx.images.root, free_bytes: free, total_bytes: fs.blocks * fs.bsize, accessible: true };
    return c;
  } catch (e) {
    try {
      rmSync(probe, { force: true });
    } catch {
      // the directory itself is what failed
    }
    return { status: 'unhealthy', error: (e as Error).message };
  }
}

function health(ctx: CloudContext, detailed: boolean) {
  const components: Record<string, Component> = {
    database: checkDatabase(ctx, detailed),
    storage: checkStorage(ctx, detailed),
  };
  const healthy = Object.values(components).every((c) => c.status === 'healthy');
  return {
    status: healthy ? ('healthy' as const) : ('unhealthy' as const),
    timestamp: new Date().toISOString(),
    version: ctx.version,
    components,
    uptime_seconds: Math.floor((Date.now() - ctx.startedAt) / 1000),
  };
}

export function registerHealthRoutes(app: OpenAPIHono<Env>, ctx: CloudContext): void {
  app.get('/healthz', (c) => {
    const h = health(ctx, false);
    return c.json(h, h.status === 'healthy' ? 200 : 503);
  });
  doc(app, 'get', '/healthz', { tag: 'Health', summary: 'Health of the service and its components', auth: [], errors: [503] });

  app.get('/healthz/detailed', requireAuth(ctx), (c) => {
    const h = health(ctx, true);
    const recent = ctx.events.recentRate(5);
    const mem = process.memoryUsage();
    const body = {
      ...h,
      metrics: {
        events_total: ctx.events.countAll(),
        events_per_minute: recent.perMinute,
        avg_processing_time_ms: recent.avgProcessingMs,
        stream_subscribers: ctx.hub.count(),
        stream_disconnects_slow: ctx.hub.dropped,
        memory_rss_mb: Math.round(mem.rss / 1048576),
        heap_used_mb: Math.round(mem.heapUsed / 1048576),
      },
    };
    return c.json(body, h.status === 'healthy' ? 200 : 503);
  });
  doc(app, 'get', '/healthz/detailed', { tag: 'Health', summary: 'Component details and service metrics', errors: [401, 503] });
}
