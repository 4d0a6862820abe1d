/**
 * Edge API keys over HTTP (admins only), the same store as `anpr apikey`: a created key is
 * in the response once and never again; revoking stops it at once here (and within the
 * lookup cache time when revoked by `anpr apikey revoke`), open streams included.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { z } from '../../shared/schemas/common.js';
import type { CloudContext } from '../context.js';
import { requireAuth, requireRole } from '../auth/middleware.js';
import { notFound, validate, readJson } from '../http/errors.js';
import { rateLimit } from '../http/rate-limit.js';
import type { Env } from '../http/types.js';
import { doc } from '../http/docs.js';

export const ApiKeyOut = z
  .object({ id: z.string(), name: z.string(), prefix: z.string(), created_at: z.string(), last_used_at: z.string().nullable(), revoked_at: z.string().nullable() })
  .openapi('ApiKey');
export const ApiKeyCreate = z.object({ name: z.string().min(1).max(64) }).strict().openapi('ApiKeyCreate');

export function registerApiKeyRoutes(app: OpenAPIHono<Env>, ctx: CloudContext, clientIp: (c: Context) => string): void {
  const admin = [requireAuth(ctx), requireRole('admin'), rateLimit(ctx.limiter, 'config', clientIp)] as const;

  app.get('/api-keys', ...admin, (c) => {
    const items = ctx.apiKeys.list();
    return c.json({ items, total: items.length });
  });
  doc(app, 'get', '/api-keys', { tag: 'API keys', summary: 'List edge API keys, never the keys themselves (admin)', response: z.object({ items: z.array(ApiKeyOut), total: z.number().int() }).openapi('ApiKeyList'), errors: [401, 403, 429] });

  app.post('/api-keys', ...admin, async (c) => {
    const { name } = validate(ApiKeyCreate, await readJson(c));
    const { key, info } = ctx.apiKeys.create(name);
    ctx.log.info({ id: info.id, name, by: (c.get('principal') as { username: string }).username }, 'api key created');
    c.header('cache-control', 'no-store');
    return c.json({ ...info, key }, 201);
  });
  doc(app, 'post', '/api-keys', {
    tag: 'API keys',
    summary: 'Create an edge API key; the key is in this response only (admin)',
    body: ApiKeyCreate,
    status: 201,
    response: ApiKeyOut.extend({ key: z.string() }).openapi('ApiKeyCreated'),
    errors: [400, 401, 403, 429],
  });

  app.delete('/api-keys/:id', ...admin, (c) => {
    const id = c.req.param('id');
    const k = ctx.apiKeys.list().find((x) => x.id === id);
    if (!k || k.revoked_at) throw notFound('Active API key');
    ctx.apiKeys.revoke(id);
    // Its open streams close now (4401), not at the next re-check.
    ctx.hub.recheck();
    ctx.log.info({ id, by: (c.get('principal') as { username: string }).username }, 'api key revoked');
    return c.body(null, 204);
  });
  doc(app, 'delete', '/api-keys/:id', { tag: 'API keys', summary: 'Revoke an edge API key (admin)', params: z.object({ id: z.string() }), status: 204, errors: [401, 403, 404, 429] });
}
