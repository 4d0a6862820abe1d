/**
 * `GET /edges/{id}/config`: what edge `id` runs (cloud/edges/edge-config.ts), versioned. The
 * answer carries `ETag: "<version>"`; a request whose `If-None-Match` lists that tag (weak or
 * strong, or `*`) gets 304 with no body, so an edge polling an unchanged config costs one hash.
 *
 * Who may read it: the edge's own key, or an admin. The bundle holds the edge's camera and
 * exporter credentials in full; another edge's key is refused (403) before anything is read,
 * and so is every user below admin.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { AppError } from '../../shared/errors.js';
import { z, Id } from '../../shared/schemas/common.js';
import { EdgeConfigBundle } from '../../shared/schemas/edge.js';
import type { CloudContext } from '../context.js';
import { requireAuth } from '../auth/middleware.js';
import { notFound } from '../http/errors.js';
import { rateLimit } from '../http/rate-limit.js';
import type { Env } from '../http/types.js';
import { doc } from '../http/docs.js';
import { edgeBundle, edgeConfigVersion, refuseSecondInstallation } from '../edges/edge-config.js';

/** Whether an `If-None-Match` header value names `etag` (weak comparison, RFC 9110 §13.1.2). */
export function ifNoneMatchHits(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((raw) => {
    const t = raw.trim();
    return t === '*' || t.replace(/^W\//, '') === etag;
  });
}

export function registerEdgeConfigRoutes(app: OpenAPIHono<Env>, ctx: CloudContext, clientIp: (c: Context) => string): void {
  app.get('/edges/:id/config', requireAuth(ctx, { apiKey: true }), rateLimit(ctx.limiter, 'config', clientIp), async (c) => {
    const id = c.req.param('id');
    const p = c.get('principal');
    if (p.kind === 'edge') {
      if (p.edgeId !== id) throw new AppError('FORBIDDEN', "An edge's key reads only its own edge's config");
      refuseSecondInstallation(ctx, c, id);
    } else if (p.role !== 'admin') {
      throw new AppError('FORBIDDEN', "An edge's config holds its credentials: it needs the edge's key or the admin role");
    }
    if (!Id.safeParse(id).success || !(await ctx.edges.get(id))) {
      // Deleting an edge revokes its keys; a key still in the verification cache is refused the same.
      if (p.kind === 'edge') throw new AppError('AUTHENTICATION_FAILED', 'Invalid API key: its edge was deleted');
      throw notFound('Edge');
    }
    // Credentials inside: never kept by shared caches; the edge revalidates with If-None-Match.
    c.header('Cache-Control', 'private, no-cache');
    // An unchanged config is answered from the cached version, without reading the items.
    const known = `"${await edgeConfigVersion(ctx, id)}"`;
    if (ifNoneMatchHits(c.req.header('if-none-match'), known)) {
      c.header('ETag', known);
      return c.body(null, 304);
    }
    const bundle = await edgeBundle(ctx, id);
    c.header('ETag', `"${bundle.version}"`);
    return c.json(bundle);
  });
  doc(app, 'get', '/edges/:id/config', {
    tag: 'Edges',
    summary:
      'What edge {id} runs: its cameras, their zones and sensors, sensors of no camera, every model, exporters of every edge or of this one; credentials in full. ETag "<version>"; If-None-Match with it answers 304. The edge\'s own key or an admin',
    auth: ['apiKey', 'jwt'],
    params: z.object({ id: z.string() }),
    response: EdgeConfigBundle,
    errors: [401, 403, 404, 409, 429],
  });
}
