/** Builds the cloud's Hono application from its context: middleware, routes, errors, docs. */
import { OpenAPIHono } from '@hono/zod-openapi';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import { requestId } from 'hono/request-id';
import { randomBytes } from 'node:crypto';
import type { CloudContext } from './context.js';
import { errorBody, errorHandler } from './http/errors.js';
import { bodyLimits } from './http/body-limit.js';
import type { Env } from './http/types.js';
import { registerAuthRoutes } from './routes/auth.js';
import { registerEventRoutes } from './routes/events.js';
import { registerConfigRoutes } from './routes/config.js';
import { registerEdgeConfigRoutes } from './routes/edge-config.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerStreamRoutes } from './routes/stream.js';
import { registerDocsRoutes } from './routes/docs.js';
import { registerAuthRefreshRoutes } from './routes/auth-refresh.js';
import { registerUserRoutes } from './routes/users.js';
import { registerApiKeyRoutes } from './routes/api-keys.js';
import { registerExportRoutes } from './routes/export.js';
import { registerCorrectionRoutes } from './routes/corrections.js';
import { registerSnapshotRoutes } from './routes/snapshot.js';
import { RECOGNIZE_MAX_IMAGE_BYTES, registerRecognizeRoutes } from './routes/recognize.js';
import { registerWebRoutes } from './routes/web.js';
import { registerEdgeRoutes } from './routes/edges.js';
import { registerMetricsRoutes } from './routes/metrics.js';
import { LIST_BODY_ROUTES, registerListRoutes } from './routes/lists.js';

const BOOT_ID = randomBytes(3).toString('hex');
let requestSeq = 0;

export function clientIp(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export function buildApp(ctx: CloudContext): OpenAPIHono<Env> {
  const app = new OpenAPIHono<Env>();
  app.use(
    requestId({
      headerName: 'X-Request-Id',
      // Unique per process start and cheap: no random bytes per request.
      generator: () => `req-${BOOT_ID}-${(++requestSeq).toString(36)}`,
    }),
  );
  app.use(
    bodyLimits(ctx.maxJsonBytes, [
      // An event with its frame and crop images (each at most the image store's limit).
      { method: 'POST', path: '/events/ingest', multipart: true, maxBytes: ctx.images.maxBytes * 2 + 256 * 1024 },
      // A still image, raw or in a multipart form (64 KiB for the form's own parts).
      { method: 'POST', path: '/recognize', maxBytes: RECOGNIZE_MAX_IMAGE_BYTES + 64 * 1024 },
      // Access lists with their entries, JSON or CSV (read as they stream: cloud/lists/import-body.ts).
      ...LIST_BODY_ROUTES,
    ]),
  );
  const baseUrl = ctx.publicUrl ?? '';
  app.use(async (c, next) => {
    c.set('baseUrl', baseUrl);
    return next();
  });
  app.use(async (c, next) => {
    if (!ctx.log.isLevelEnabled('debug')) return next();
    const t0 = performance.now();
    await next();
    // Path only: the query may carry a token or an API key.
    ctx.log.debug({ method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(performance.now() - t0) }, 'request');
  });
  app.onError(errorHandler(ctx.log, ctx.database.failure));
  app.notFound((c) => c.json(errorBody(c, 'RESOURCE_NOT_FOUND', 'Not found'), 404));

  registerHealthRoutes(app, ctx);
  // Every route sees the same client address: the socket peer, or the forwarded client when the
  // peer is a configured trusted proxy (ANPR_TRUSTED_PROXIES).
  const ip = ctx.trustedProxies.resolver(clientIp);
  registerAuthRoutes(app, ctx, clientIp); // resolves the forwarded client itself
  registerStreamRoutes(app, ctx);
  registerAuthRefreshRoutes(app, ctx, clientIp); // likewise
  // Before the event routes: /events/export must not be taken for /events/:id.
  registerExportRoutes(app, ctx, ip);
  registerEventRoutes(app, ctx, ip);
  registerCorrectionRoutes(app, ctx, ip);
  registerConfigRoutes(app, ctx, ip);
  registerListRoutes(app, ctx, ip);
  registerEdgeConfigRoutes(app, ctx, ip);
  registerSnapshotRoutes(app, ctx, ip);
  registerUserRoutes(app, ctx, ip);
  registerApiKeyRoutes(app, ctx, ip);
  registerEdgeRoutes(app, ctx, ip);
  registerMetricsRoutes(app, ctx);
  registerRecognizeRoutes(app, ctx, ip);
  registerWebRoutes(app, ctx);
  registerDocsRoutes(app, ctx);
  return app;
}
