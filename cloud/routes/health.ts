/**
 * Health: `/healthz` (public) checks the database and the image storage for real and
 * answers 503 when either fails; `/healthz/detailed` (signed in) adds their details and
 * service metrics.
 */
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

async function checkDatabase(ctx: CloudContext, detailed: boolean): Promise<Component> {
  const t0 = process.hrtime.bigint();
  const p = await ctx.database.probe(detailed);
  const c: Component = { status: p.ok ? 'healthy' : 'unhealthy', response_time_ms: ms(t0) };
  if (p.error) c.error = p.error;
  if (detailed && p.details) c.details = { ...p.details, last_check: new Date().toISOString() };
  return c;
}

async function checkStorage(ctx: CloudContext, detailed: boolean): Promise<Component> {
  const t0 = process.hrtime.bigint();
  const p = await ctx.images.probe(detailed);
  const c: Component = { status: p.ok ? 'healthy' : 'unhealthy', response_time_ms: ms(t0) };
  if (p.error) c.error = p.error;
  if (detailed && p.details) c.details = p.details;
  return c;
}

async function health(ctx: CloudContext, detailed: boolean) {
  const components: Record<string, Component> = {
    database: await checkDatabase(ctx, detailed),
    storage: await checkStorage(ctx, detailed),
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
  app.get('/healthz', async (c) => {
    const h = await health(ctx, false);
    return c.json(h, h.status === 'healthy' ? 200 : 503);
  });
  doc(app, 'get', '/healthz', { tag: 'Health', summary: 'Health of the service and its components', auth: [], errors: [503] });

  app.get('/healthz/detailed', requireAuth(ctx), async (c) => {
    const h = await health(ctx, true);
    const recent = await ctx.events.recentRate(5);
    const mem = process.memoryUsage();
    const body = {
      ...h,
      metrics: {
        events_total: await ctx.events.countAll(),
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
