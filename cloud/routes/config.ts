/**
 * Config API: the same CRUD for cameras, zones, models, sensors and exporters, plus the
 * camera and exporter connection tests. Viewers (and edges, which sync their config from
 * here) read; admins change. PUT is a partial update: the body is deep-merged into the
 * stored resource and the result must pass the same validation as a create.
 *
 * Secrets: admins and edges (which deliver with them) read full values. Everyone else reads
 * every resource through `redactSecrets` (shared/redact.ts): URL userinfo, credential-like
 * query values, credential-like fields at any depth and non-allowlisted header values are
 * masked. A create or update that carries a mask (`********`, `***:***@`, `=***`) is refused
 * with 400 naming the field, so a mask read back can never overwrite the real secret.
 *
 * Edges: an edge's key reads only what that edge runs (SqliteConfigStore `scopeOf`: its cameras,
 * their zones and sensors, sensors of no camera, every model, exporters of every edge or of
 * it); lists and their `total` hold nothing else, and another edge's item by id is a 403.
 * A camera belongs to one edge (`edge_id`): omitted on create it is the site's only edge (or
 * none when there is no edge); with several edges it must be said (400 naming `edge_id`), never
 * guessed. An `edge_id` of a camera or an exporter must name a registered edge.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { AppError } from '../../shared/errors.js';
import { SECRET_MASK, maskedFields, redactSecrets } from '../../shared/redact.js';
import { z, Id, PageQuery, QueryBool, pageOf } from '../../shared/schemas/common.js';
import { Camera, CameraCreate, Exporter, ExporterCreate, Model, ModelCreate, Sensor, SensorCreate, Zone, ZoneCreate } from '../../shared/schemas/config.js';
import type { CloudContext } from '../context.js';
import { requireAuth, requireRole } from '../auth/middleware.js';
import { notFound, validate, validateQuery, readJson } from '../http/errors.js';
import { rateLimit, type Category } from '../http/rate-limit.js';
import type { Env } from '../http/types.js';
import { doc } from '../http/docs.js';
import { EDGE_LIMITS } from '../../shared/schemas/edge.js';
import type { ConfigKind, Resource } from '../store/config-store.js';
import { MAX_JSON_DEPTH, clampDepth } from '../../shared/schemas/json-bounds.js';
import { probeStream } from '../probes/camera-probe.js';
import { probeExporter } from '../probes/exporter-probe.js';

interface KindSpec {
  kind: ConfigKind;
  noun: string;
  create: z.ZodType;
  out: z.ZodType;
  filters: z.ZodRawShape;
  category: Category;
}

const SPECS: KindSpec[] = [
  {
    kind: 'cameras',
    noun: 'Camera',
    create: CameraCreate,
    out: Camera,
    filters: { enabled: QueryBool.optional(), edge_id: Id.optional().describe('Only the cameras of this edge') },
    category: 'config',
  },
  { kind: 'zones', noun: 'Zone', create: ZoneCreate, out: Zone, filters: { camera_id: Id.optional() }, category: 'config' },
  {
    kind: 'models',
    noun: 'Model',
    create: ModelCreate,
    out: Model,
    filters: { type: z.enum(['detector', 'plate_detector', 'ocr', 'classifier']).optional() },
    category: 'config',
  },
  {
    kind: 'sensors',
    noun: 'Sensor',
    create: SensorCreate,
    out: Sensor,
    filters: { type: z.enum(['tpms', 'barrier', 'rfid', 'loop', 'relay']).optional(), camera_id: Id.optional() },
    category: 'config',
  },
  { kind: 'exporters', noun: 'Exporter', create: ExporterCreate, out: Exporter, filters: { enabled: QueryBool.optional() }, category: 'exporters' },
];

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Deep merge for partial updates: objects merge key by key, anything else replaces. */
export function deepMerge(base: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    out[k] = isObj(v) && isObj(base[k]) ? deepMerge(base[k] as Record<string, unknown>, v) : v;
  }
  return out;
}

/**
 * Secrets (exporter credentials, camera passwords, header values) are shown to admins and edges
 * only. A value stored deeper than the schemas now allow is served clamped
 * (shared/schemas/json-bounds.ts): the read never fails on it.
 */
function present(stored: Resource, c: Context<Env>): Resource {
  const r = clampDepth(stored);
  const p = c.get('principal');
  if (p.kind === 'user' && p.role === 'admin') return r;
  if (p.kind === 'edge') return r; // the edge needs its exporters' credentials to deliver
  return redactSecrets(r, SECRET_MASK, MAX_JSON_DEPTH + 1); // clamped above: every stored level is shown
}

const edgeIdError = (message: string) => new AppError('VALIDATION_ERROR', 'Validation error', { errors: [{ field: 'edge_id', message: `edge_id: ${message}` }] });

/**
 * The edge of a camera or exporter about to be stored. A camera created without `edge_id` gets
 * the site's only edge, or null when there is none; with several edges the caller must say which
 * (a 400, never a guess). A named edge must be registered.
 */
async function settleEdge(ctx: CloudContext, kind: ConfigKind, body: Record<string, unknown>, creating: boolean): Promise<void> {
  if (kind !== 'cameras' && kind !== 'exporters') return;
  const given = body.edge_id;
  if (given === undefined || given === null) {
    if (kind === 'exporters' || !creating || given === null) {
      body.edge_id = null;
      return;
    }
    const n = await ctx.edges.count();
    if (n > 1) throw edgeIdError(`this site has ${n} edges: say which edge captures this camera (an edge id, or null for none)`);
    body.edge_id = await ctx.edges.soleEdge();
    return;
  }
  if (typeof given === 'string' && !(await ctx.edges.get(given))) {
    throw edgeIdError(`no edge ${given} is registered (GET /edges lists them; an edge is registered with its API key or POST /edges)`);
  }
}

/** The edges that would run this (not yet stored) item: see scopeOf in cloud/store/config-store.ts. */
async function edgesRunning(ctx: CloudContext, kind: ConfigKind, body: Record<string, unknown>): Promise<string[]> {
  const all = async () => (await ctx.edges.list()).map((e) => e.id);
  const cameraEdge = async (cameraId: unknown) => {
    const cam = typeof cameraId === 'string' ? await ctx.config.get('cameras', cameraId) : undefined;
    return typeof cam?.edge_id === 'string' ? [cam.edge_id] : [];
  };
  switch (kind) {
    case 'cameras':
      return typeof body.edge_id === 'string' ? [body.edge_id] : [];
    case 'zones':
      return cameraEdge(body.camera_id);
    case 'sensors': {
      if (typeof body.camera_id === 'string') return cameraEdge(body.camera_id);
      if (typeof body.zone_id !== 'string') return all();
      return cameraEdge((await ctx.config.get('zones', body.zone_id))?.camera_id);
    }
    case 'exporters':
      return typeof body.edge_id === 'string' ? [body.edge_id] : all();
    default:
      return [];
  }
}

/**
 * What the cloud accepts, every edge can run: an item that would give an edge more than it runs
 * (EDGE_LIMITS) is refused with 400 naming the field that places it.
 */
async function checkCapacity(ctx: CloudContext, kind: ConfigKind, body: Record<string, unknown>, id: string | null): Promise<void> {
  const most = (EDGE_LIMITS as Record<string, number>)[kind];
  if (most === undefined) return;
  for (const edge of await edgesRunning(ctx, kind, body)) {
    if ((await ctx.config.countFor(kind, edge, id)) < most) continue;
    const field = kind === 'zones' ? 'camera_id' : kind === 'sensors' ? (body.camera_id ? 'camera_id' : body.zone_id ? 'zone_id' : 'edge') : 'edge_id';
    throw new AppError('VALIDATION_ERROR', 'Validation error', {
      errors: [{ field, message: `${field}: edge ${edge} already runs ${most} ${kind}, the most one edge runs; give this to another edge or remove one` }],
    });
  }
}

/** An edge's key may read only what its edge runs: 403 for another edge's item. */
async function checkVisible(ctx: CloudContext, c: Context<Env>, kind: ConfigKind, id: string, noun: string): Promise<void> {
  const p = c.get('principal');
  if (p.kind === 'edge' && !(await ctx.config.visibleTo(kind, id, p.edgeId))) {
    throw new AppError('FORBIDDEN', `This ${noun.toLowerCase()} is not run by edge ${p.edgeId}`);
  }
}

async function jsonBody(c: Context): Promise<Record<string, unknown>> {
  const body = await readJson(c);
  if (!isObj(body)) throw new AppError('VALIDATION_ERROR', 'Validation error', { errors: [{ field: '(body)', message: 'body must be a JSON object' }] });
  const masked = maskedFields(body);
  if (masked.length > 0) {
    throw new AppError('VALIDATION_ERROR', 'Validation error', {
      errors: masked.map((field) => ({ field, message: `${field}: is a redaction mask, not a value; send the real secret or leave the field out to keep it` })),
    });
  }
  return body;
}

export function registerConfigRoutes(app: OpenAPIHono<Env>, ctx: CloudContext, clientIp: (c: Context) => string): void {
  const read = [requireAuth(ctx, { apiKey: true }), requireRole('viewer', true)] as const;
  const write = [requireAuth(ctx), requireRole('admin')] as const;

  for (const s of SPECS) {
    const base = `/config/${s.kind}`;
    const limit = rateLimit(ctx.limiter, s.category, clientIp);
    const listQuery = PageQuery.extend(s.filters).strict();
    const tag = s.category === 'exporters' ? 'Exporters' : 'Config';

    app.get(base, ...read, limit, async (c) => {
      const q = validateQuery(listQuery, c) as { skip: number; limit: number; enabled?: boolean; camera_id?: string; type?: string; edge_id?: string };
      const p = c.get('principal');
      const { items, total } = await ctx.config.list(s.kind, { ...q, ...(p.kind === 'edge' ? { visibleTo: p.edgeId } : {}) }, q.skip, q.limit);
      return c.json({ items: items.map((r) => present(r, c)), total, skip: q.skip, limit: q.limit });
    });
    doc(app, 'get', base, { tag, summary: `List ${s.kind} (credentials masked unless the caller is an admin or an edge; an edge's key lists only what its edge runs)`, auth: ['jwt', 'apiKey'], query: listQuery, response: pageOf(s.out, `${s.noun}Page`), errors: [400, 401, 429] });

    app.post(base, ...write, limit, async (c) => {
      const body = validate(s.create, await jsonBody(c)) as Record<string, unknown>;
      await settleEdge(ctx, s.kind, body, true);
      await checkCapacity(ctx, s.kind, body, typeof body.id === 'string' ? body.id : null);
      const created = await ctx.config.create(s.kind, body);
      ctx.log.info({ kind: s.kind, id: created.id, by: (c.get('principal') as { username?: string }).username }, 'config created');
      return c.json(present(created, c), 201);
    });
    doc(app, 'post', base, { tag, summary: `Create a ${s.noun.toLowerCase()}`, body: s.create, status: 201, response: s.out, errors: [400, 401, 403, 409, 429] });

    app.get(`${base}/:id`, ...read, limit, async (c) => {
      const r = await ctx.config.get(s.kind, c.req.param('id'));
      if (!r) throw notFound(s.noun);
      await checkVisible(ctx, c, s.kind, r.id, s.noun);
      return c.json(present(r, c));
    });
    doc(app, 'get', `${base}/:id`, { tag, summary: `One ${s.noun.toLowerCase()} (credentials masked unless the caller is an admin or an edge; an edge's key: 403 unless its edge runs it)`, auth: ['jwt', 'apiKey'], params: z.object({ id: z.string() }), response: s.out, errors: [401, 403, 404] });

    app.put(`${base}/:id`, ...write, limit, async (c) => {
      const id = c.req.param('id');
      const current = await ctx.config.get(s.kind, id);
      if (!current) throw notFound(s.noun);
      const patch = await jsonBody(c);
      for (const k of ['created_at', 'updated_at']) delete patch[k];
      if (patch.id !== undefined && patch.id !== id) {
        throw new AppError('VALIDATION_ERROR', 'Validation error', { errors: [{ field: 'id', message: 'id: cannot be changed' }] });
      }
      const { created_at, updated_at, ...stored } = current;
      void updated_at;
      const merged = validate(s.create, deepMerge(stored, patch)) as Record<string, unknown>;
      await settleEdge(ctx, s.kind, merged, false);
      await checkCapacity(ctx, s.kind, merged, id);
      const saved = await ctx.config.replace(s.kind, { ...merged, id, created_at, updated_at: current.updated_at } as Resource);
      return c.json(present(saved, c));
    });
    doc(app, 'put', `${base}/:id`, { tag, summary: `Update a ${s.noun.toLowerCase()} (partial: fields given are merged; a redaction mask such as ******** is refused with 400, leave a secret out to keep it)`, params: z.object({ id: z.string() }), body: s.create, response: s.out, errors: [400, 401, 403, 404, 429] });

    app.delete(`${base}/:id`, ...write, limit, async (c) => {
      if (!(await ctx.config.delete(s.kind, c.req.param('id')))) throw notFound(s.noun);
      return c.body(null, 204);
    });
    doc(app, 'delete', `${base}/:id`, { tag, summary: `Delete a ${s.noun.toLowerCase()}`, params: z.object({ id: z.string() }), status: 204, errors: [401, 403, 404, 429] });
  }

  const TestQuery = z.object({ timeout: z.coerce.number().int().min(1).max(60).default(10) }).strict();
  app.post('/config/cameras/:id/test', ...write, rateLimit(ctx.limiter, 'config', clientIp), async (c) => {
    const q = validateQuery(TestQuery, c);
    const cam = await ctx.config.get('cameras', c.req.param('id'));
    if (!cam) throw notFound('Camera');
    const r = await probeStream(cam.rtsp_url as string, q.timeout, undefined, ctx.log.child({ camera: cam.id }));
    if (r.ok) {
      return c.json({ status: 'success', message: 'RTSP stream connection successful', response_time_ms: r.ms, stream_info: r.info });
    }
    return c.json({ status: 'failed', message: `Failed to connect to RTSP stream: ${r.error}`, error: r.error, response_time_ms: r.ms }, 503);
  });
  doc(app, 'post', '/config/cameras/:id/test', { tag: 'Config', summary: 'Probe the camera stream (ffprobe)', params: z.object({ id: z.string() }), query: TestQuery, errors: [401, 403, 404, 429, 503] });

  app.post('/config/exporters/:id/test', ...write, rateLimit(ctx.limiter, 'exporters', clientIp), async (c) => {
    const q = validateQuery(TestQuery, c);
    const e = await ctx.config.get('exporters', c.req.param('id'));
    if (!e) throw notFound('Exporter');
    const { created_at: _c, updated_at: _u, ...stored } = e;
    const r = await probeExporter(ExporterCreate.parse(stored), q.timeout * 1000, ctx.log.child({ exporter: e.id }));
    const http = r.http_status !== undefined ? { http_status: r.http_status } : {};
    if (r.ok) return c.json({ status: 'success', message: 'Connection test successful', response_time_ms: r.ms, ...http });
    return c.json({ status: 'failed', message: 'Connection test failed', error: r.error, response_time_ms: r.ms, ...http }, 503);
  });
  doc(app, 'post', '/config/exporters/:id/test', { tag: 'Exporters', summary: 'Test the exporter destination (HTTP request or MQTT connect)', params: z.object({ id: z.string() }), query: TestQuery, errors: [401, 403, 404, 503] });
}
