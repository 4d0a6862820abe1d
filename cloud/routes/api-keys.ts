/**
 * Edge API keys over HTTP (admins only), the same store as `anpr apikey`: a created key is
 * in the response once and never again; revoking stops it at once here (and within the
 * lookup cache time when revoked by `anpr apikey revoke`), open streams included.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { z, Id, SAFE_ID } from '../../shared/schemas/common.js';
import { AppError } from '../../shared/errors.js';
import type { CloudContext } from '../context.js';
import { requireAuth, requireRole } from '../auth/middleware.js';
import { notFound, validate, validateQuery, readJson } from '../http/errors.js';
import { rateLimit } from '../http/rate-limit.js';
import type { Env } from '../http/types.js';
import { doc } from '../http/docs.js';

export const ApiKeyOut = z
  .object({
    id: z.string(),
    name: z.string(),
    edge_id: z.string().describe('The edge this key belongs to; everything the key does is that edge\'s'),
    prefix: z.string(),
    created_at: z.string(),
    last_used_at: z.string().nullable(),
    revoked_at: z.string().nullable(),
  })
  .openapi('ApiKey');
export const ApiKeyCreate = z
  .object({
    edge_id: Id.optional().describe('The edge the key belongs to (registered now if new). Required; a body with `name` alone (older clients) takes the name as edge id when it is a valid one'),
    name: z.string().min(1).max(64).optional().describe('Name of the key (default: the edge id)'),
  })
  .strict()
  .openapi('ApiKeyCreate');
export const ApiKeyListQuery = z.object({ edge_id: Id.optional() }).strict();

/** The key name an edge id gives when no name is sent (key names are at most 64 characters of A-Z a-z 0-9 space . _ -). */
const nameOf = (edgeId: string) => edgeId.replace(/[^A-Za-z0-9._ -]/g, '-').slice(0, 64);

export function registerApiKeyRoutes(app: OpenAPIHono<Env>, ctx: CloudContext, clientIp: (c: Context) => string): void {
  const admin = [requireAuth(ctx), requireRole('admin'), rateLimit(ctx.limiter, 'config', clientIp)] as const;

  app.get('/api-keys', ...admin, async (c) => {
    const { edge_id } = validateQuery(ApiKeyListQuery, c);
    const items = await ctx.apiKeys.list(edge_id);
    return c.json({ items, total: items.length });
  });
  doc(app, 'get', '/api-keys', { tag: 'API keys', summary: 'List edge API keys (of one edge with ?edge_id=), never the keys themselves (admin)', query: ApiKeyListQuery, response: z.object({ items: z.array(ApiKeyOut), total: z.number().int() }).openapi('ApiKeyList'), errors: [401, 403, 429] });

  app.post('/api-keys', ...admin, async (c) => {
    const body = validate(ApiKeyCreate, await readJson(c));
    let edgeId = body.edge_id;
    if (edgeId === undefined) {
      // A client of the seed contract sends a name only: it names the edge when it can be an edge id.
      if (body.name === undefined || !SAFE_ID.test(body.name)) {
        throw new AppError('VALIDATION_ERROR', 'Validation error', {
          errors: [{ field: 'edge_id', message: 'edge_id is required: the edge the key belongs to (1-128 characters of A-Z a-z 0-9 . _ : -)' }],
        });
      }
      edgeId = body.name;
    }
    const name = body.name ?? nameOf(edgeId);
    const { key, info } = await ctx.apiKeys.create(edgeId, name);
    ctx.log.info({ id: info.id, name, edge: edgeId, by: (c.get('principal') as { username: string }).username }, 'api key created');
    c.header('cache-control', 'no-store');
    return c.json({ ...info, key }, 201);
  });
  doc(app, 'post', '/api-keys', {
    tag: 'API keys',
    summary: 'Create an API key for an edge (registered now if new); the key is in this response only (admin)',
    body: ApiKeyCreate,
    status: 201,
    response: ApiKeyOut.extend({ key: z.string() }).openapi('ApiKeyCreated'),
    errors: [400, 401, 403, 429],
  });

  app.delete('/api-keys/:id', ...admin, async (c) => {
    const id = c.req.param('id');
    const k = (await ctx.apiKeys.list()).find((x) => x.id === id);
    if (!k || k.revoked_at) throw notFound('Active API key');
    await ctx.apiKeys.revoke(id);
    // Its open streams close now (4401), not at the next re-check.
    await ctx.hub.recheck();
    ctx.log.info({ id, by: (c.get('principal') as { username: string }).username }, 'api key revoked');
    return c.body(null, 204);
  });
  doc(app, 'delete', '/api-keys/:id', { tag: 'API keys', summary: 'Revoke an edge API key (admin)', params: z.object({ id: z.string() }), status: 204, errors: [401, 403, 404, 429] });
}
