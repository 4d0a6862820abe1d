/**
 * Edges (gate boxes): their heartbeats and what the back office sees of them.
 *
 * - `POST /edges/{id}/heartbeat`: that edge's own API key only (another edge's key, or a user:
 *   403). A refusal stores nothing: a key whose edge was deleted 401, an invalid body 400, a
 *   clock off by more than MAX_CLOCK_SKEW_S 400 CLOCK_SKEW, a second installation of the edge id
 *   while the first is not offline 409 EDGE_ID_IN_USE, a body past the JSON limit 413.
 * - `GET /edges`, `GET /edges/{id}`: users (viewer+); an edge key may read its own edge only.
 * - `POST /edges`, `PUT /edges/{id}`, `DELETE /edges/{id}`: admins. Deleting an edge revokes
 *   its keys (its open streams close at once), unassigns its cameras, deletes its exporters.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { z, Id } from '../../shared/schemas/common.js';
import { AppError, fieldErrors } from '../../shared/errors.js';
import { DEFAULT_HEARTBEAT_S, EdgeCreate, EdgeHeartbeat, EdgeHeartbeatAck, EdgeStatus } from '../../shared/schemas/edge.js';
import type { CloudContext } from '../context.js';
import type { EdgeRecord } from '../edges/edges-store.js';
import { edgeConfigVersion } from '../edges/edge-config.js';
import { requireAuth, requireRole } from '../auth/middleware.js';
import { notFound, readJson, validate } from '../http/errors.js';
import { rateLimit } from '../http/rate-limit.js';
import type { Env, Principal } from '../http/types.js';
import { doc } from '../http/docs.js';
import { ROLE_RANK } from '../auth/users-store.js';

const EdgeParams = z.object({ id: Id });
const EdgeRename = z
  .object({ name: EdgeCreate.shape.name.unwrap() })
  .strict()
  .openapi('EdgeRename');
const EdgeList = z.object({ items: z.array(EdgeStatus), total: z.number().int() }).openapi('EdgeList');

/** What GET /edges/{id} serves for a registered edge. */
export async function edgeStatus(ctx: CloudContext, r: EdgeRecord): Promise<EdgeStatus> {
  const h = ctx.edgeHealth.state(r.id);
  const hb = h.heartbeat;
  return {
    id: r.id,
    name: r.name,
    status: h.status,
    last_seen_at: h.lastSeenMs === null ? null : new Date(h.lastSeenMs).toISOString(),
    created_at: r.created_at,
    version: hb?.version ?? null,
    uptime_s: hb?.uptime_s ?? null,
    interval_s: hb?.interval_s ?? DEFAULT_HEARTBEAT_S,
    clock_skew_s: h.clockSkewS,
    problems: h.problems,
    cameras: hb?.cameras ?? [],
    outbox: hb ? { pending: hb.outbox.pending, dead_letters: hb.outbox.dead_letters, exporters: hb.outbox.exporters } : { pending: 0, dead_letters: 0, exporters: [] },
    config: {
      version: hb?.config.version ?? null,
      applied_at: hb?.config.applied_at ?? null,
      error: hb?.config.error ?? null,
      problems: hb?.config.problems ?? [],
      current_version: await edgeConfigVersion(ctx, r.id),
    },
    assigned_cameras: (await ctx.config.list('cameras', { edge_id: r.id }, 0, 100_000)).items.map((c) => c.id),
    lists: hb?.lists ?? [],
  };
}

function edgeParam(c: Context): string {
  const id = c.req.param('id') ?? '';
  return validate(EdgeParams, { id }, 'Invalid edge id').id;
}

const username = (c: Context<Env>) => {
  const p = c.get('principal');
  return p.kind === 'user' ? p.username : p.name;
};

export function registerEdgeRoutes(app: OpenAPIHono<Env>, ctx: CloudContext, clientIp: (c: Context) => string): void {
  const limit = rateLimit(ctx.limiter, 'config', clientIp);
  const admin = [requireAuth(ctx), requireRole('admin'), limit] as const;
  const read = [requireAuth(ctx, { apiKey: true }), limit] as const;

  app.post('/edges/:id/heartbeat', requireAuth(ctx, { apiKey: true }), async (c) => {
    const id = edgeParam(c);
    const p = c.get('principal');
    if (p.kind === 'user') {
      if (!(await ctx.edges.get(id))) throw notFound('Edge');
      throw new AppError('FORBIDDEN', "Only the edge's own API key may post its heartbeat");
    }
    if (p.edgeId !== id) {
      ctx.metrics.heartbeat('forbidden');
      throw new AppError('FORBIDDEN', `This API key belongs to edge '${p.edgeId}', not '${id}'`);
    }
    const body = await readJson(c).catch((e) => {
      ctx.metrics.heartbeat('invalid');
      throw e;
    });
    const parsed = EdgeHeartbeat.safeParse(body);
    if (!parsed.success) {
      ctx.metrics.heartbeat('invalid');
      throw new AppError('VALIDATION_ERROR', 'Invalid heartbeat', { errors: fieldErrors(parsed.error.issues as never) });
    }
    // Looked up after the body is read; an edge deleted after this is not brought back to life
    // by the heartbeat under way either (the tracker writes only an existing row).
    const record = await ctx.edges.get(id);
    if (!record) {
      // Deleted (by `anpr` in another process, within the key cache time): its keys are revoked.
      ctx.metrics.heartbeat('unknown_edge');
      throw new AppError('AUTHENTICATION_FAILED', `Edge '${id}' is no longer registered; its API keys were revoked`);
    }
    const h = await ctx.edgeHealth.heartbeat(id, parsed.data);
    const ack: EdgeHeartbeatAck = {
      id,
      status: h.status,
      last_seen_at: new Date(h.lastSeenMs!).toISOString(),
      problems: h.problems,
      config: { current_version: await edgeConfigVersion(ctx, id) },
    };
    return c.json(ack);
  });
  doc(app, 'post', '/edges/:id/heartbeat', {
    tag: 'Edges',
    summary: "An edge's heartbeat (its own API key): its health, every interval_s; answers its status as the cloud sees it and the config version it serves the edge now",
    auth: ['apiKey'],
    params: EdgeParams,
    body: EdgeHeartbeat,
    response: EdgeHeartbeatAck,
    errors: [400, 401, 403, 404, 409],
  });

  app.get('/edges', ...read, async (c) => {
    onlyUsers(c.get('principal'), 'viewer');
    const items = await Promise.all((await ctx.edges.list()).map((r) => edgeStatus(ctx, r)));
    return c.json({ items, total: items.length });
  });
  doc(app, 'get', '/edges', { tag: 'Edges', summary: 'Every registered edge and its health (viewer)', response: EdgeList, errors: [401, 403, 429] });

  app.get('/edges/:id', ...read, async (c) => {
    const id = edgeParam(c);
    const p = c.get('principal');
    if (p.kind === 'edge') {
      if (p.edgeId !== id) throw new AppError('FORBIDDEN', 'An edge API key may read its own edge only');
    } else onlyUsers(p, 'viewer');
    const r = await ctx.edges.get(id);
    if (!r) throw notFound('Edge');
    return c.json(await edgeStatus(ctx, r));
  });
  doc(app, 'get', '/edges/:id', {
    tag: 'Edges',
    summary: "One edge and its health (viewer; an edge's own key)",
    auth: ['jwt', 'apiKey'],
    params: EdgeParams,
    response: EdgeStatus,
    errors: [400, 401, 403, 404, 429],
  });

  app.post('/edges', ...admin, async (c) => {
    const body = validate(EdgeCreate, await readJson(c));
    if (await ctx.edges.get(body.id)) throw new AppError('DUPLICATE_RESOURCE', `Edge '${body.id}' already exists`);
    await ctx.edges.ensure(body.id, body.name);
    ctx.log.info({ edge: body.id, by: username(c) }, 'edge registered');
    return c.json(await edgeStatus(ctx, (await ctx.edges.get(body.id))!), 201);
  });
  doc(app, 'post', '/edges', { tag: 'Edges', summary: 'Register an edge without a key yet (admin)', body: EdgeCreate, status: 201, response: EdgeStatus, errors: [400, 401, 403, 409, 429] });

  app.put('/edges/:id', ...admin, async (c) => {
    const id = edgeParam(c);
    const { name } = validate(EdgeRename, await readJson(c));
    if (!(await ctx.edges.rename(id, name))) throw notFound('Edge');
    return c.json(await edgeStatus(ctx, (await ctx.edges.get(id))!));
  });
  doc(app, 'put', '/edges/:id', { tag: 'Edges', summary: 'Rename an edge (admin)', params: EdgeParams, body: EdgeRename, response: EdgeStatus, errors: [400, 401, 403, 404, 429] });

  app.delete('/edges/:id', ...admin, async (c) => {
    const id = edgeParam(c);
    if (!(await ctx.edges.delete(id))) throw notFound('Edge');
    // Its keys were revoked in the same transaction: no cached lookup may outlive that, and its
    // open streams close now (4401), not at the next re-check.
    await ctx.apiKeys.clearCache();
    await ctx.hub.recheck();
    ctx.edgeHealth.forget(id);
    ctx.log.info({ edge: id, by: username(c) }, 'edge deleted');
    return c.body(null, 204);
  });
  doc(app, 'delete', '/edges/:id', {
    tag: 'Edges',
    summary: 'Delete an edge: revokes its keys, unassigns its cameras, deletes its own exporters (admin)',
    params: EdgeParams,
    status: 204,
    errors: [400, 401, 403, 404, 429],
  });
}

function onlyUsers(p: Principal, min: 'viewer'): void {
  if (p.kind === 'edge') throw new AppError('FORBIDDEN', 'An edge API key may read its own edge only (GET /edges/{id})');
  if (ROLE_RANK[p.role] < ROLE_RANK[min]) throw new AppError('FORBIDDEN', `This action needs the ${min} role`);
}
