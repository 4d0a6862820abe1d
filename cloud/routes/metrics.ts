/**
 * `GET /metrics`: the cloud's Prometheus metrics (cloud/metrics/cloud-metrics.ts), for an admin's
 * JWT or `Authorization: Bearer $ANPR_METRICS_TOKEN` (a scraper needs no user account).
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { AppError } from '../../shared/errors.js';
import type { CloudContext } from '../context.js';
import { authenticate } from '../auth/middleware.js';
import { ROLE_RANK } from '../auth/users-store.js';
import type { Env } from '../http/types.js';
import { doc } from '../http/docs.js';

export function registerMetricsRoutes(app: OpenAPIHono<Env>, ctx: CloudContext): void {
  app.get('/metrics', async (c) => {
    const bearer = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
    if (!(bearer && ctx.metrics.tokenMatches(bearer))) {
      const p = await authenticate(ctx, c, {});
      if (p.kind !== 'user' || ROLE_RANK[p.role] < ROLE_RANK.admin) throw new AppError('FORBIDDEN', 'This action needs the admin role (or the metrics token)');
    }
    const { body, contentType } = await ctx.metrics.scrape();
    return c.body(body, 200, { 'content-type': contentType, 'cache-control': 'no-store' });
  });
  doc(app, 'get', '/metrics', { tag: 'Health', summary: 'Prometheus metrics, text format (admin, or Bearer $ANPR_METRICS_TOKEN)', errors: [401, 403] });
}
