/**
 * Events API: ingest (JSON or multipart with images), list, stats, detail, images.
 *
 * Edges: an event ingested with an edge's key is that edge's: `metadata.edge_worker_id` is set
 * from the key. A body that names another edge, or a camera the cloud assigns to another edge,
 * is refused with 403 before anything is written (no image, no row, nothing streamed); a camera
 * unknown to the cloud or assigned to no edge is accepted (an edge may run local cameras). An
 * edge's key fetches the images of its own edge's events only. A user's ingest is unchanged.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { AppError } from '../../shared/errors.js';
import { z } from '../../shared/schemas/common.js';
import { pageOf } from '../../shared/schemas/common.js';
import { Event, EventIngest, IngestAccepted, type EventIngestParsed } from '../../shared/schemas/event.js';
import { EventListQuery, EventStatsQuery } from '../../shared/schemas/queries.js';
import { EventStats } from '../../shared/schemas/stats.js';
import type { CloudContext } from '../context.js';
import { requireAuth, requireRole } from '../auth/middleware.js';
import { checkBodyDepth, notFound, validate, validateQuery, readJson } from '../http/errors.js';
import { clampDepth } from '../../shared/schemas/json-bounds.js';
import { rateLimit } from '../http/rate-limit.js';
import type { Env } from '../http/types.js';
import { doc } from '../http/docs.js';
import { checkImage, type ImageKind } from '../images/image-store.js';
import { decisionColumns, type EventRow, type StoredEvent } from '../store/events-store.js';
import { refuseSecondInstallation } from '../edges/edge-config.js';
import type { Principal } from '../http/types.js';

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The public form of a stored event; image URLs point at this service: the configured public
 * URL, else a path relative to it (never built from the request's Host). Free-form values
 * stored before depth bounds existed are served clamped (`clampDepth`), never a failed read.
 */
export function toApiEvent(row: StoredEvent | (EventRow & { seq?: number }), baseUrl: string): Event {
  const body = JSON.parse(row.body) as Pick<EventIngestParsed, 'raw_candidates' | 'vehicle_info' | 'tpms_status' | 'decision' | 'metadata'> & {
    correction?: Event['correction'];
  };
  const url = (kind: ImageKind) => `${baseUrl}/events/${encodeURIComponent(row.event_id)}/${kind}`;
  return {
    id: row.event_id,
    event_id: row.event_id,
    timestamp: iso(row.ts),
    camera_id: row.camera_id,
    zone_id: row.zone_id,
    plate_text: row.plate_text,
    confidence: row.confidence,
    raw_candidates: body.raw_candidates ?? [],
    frame_url: row.frame_path ? url('frame') : null,
    crop_url: row.crop_path ? url('crop') : null,
    vehicle_info: body.vehicle_info ?? null,
    tpms_status: body.tpms_status ?? null,
    decision: body.decision ?? null,
    metadata: clampDepth(body.metadata ?? {}),
    correction: body.correction ?? null,
    created_at: iso(row.created_at),
  };
}

/** Where image URLs point: `--public-url` / ANPR_PUBLIC_URL, or '' for relative paths (cloud/app.ts). */
export const baseUrlOf = (c: Context<Env>) => c.get('baseUrl');

const INGEST_FIELDS = new Set(['event', 'frame', 'crop']);

/** Reads the ingest body: JSON, or multipart with `event` (JSON text) and optional images. */
async function readIngest(c: Context<Env>): Promise<{ raw: unknown; frame?: Uint8Array; crop?: Uint8Array }> {
  const ct = (c.req.header('content-type') ?? '').toLowerCase();
  if (ct.startsWith('multipart/form-data')) {
    let form: Record<string, string | File | (string | File)[]>;
    try {
      form = await c.req.parseBody({ all: true });
    } catch {
      throw new AppError('INVALID_REQUEST', 'Malformed multipart body');
    }
    const errors = Object.keys(form)
      .filter((k) => !INGEST_FIELDS.has(k))
      .map((k) => ({ field: k, message: `${k}: unknown form field (expected event, frame, crop)` }));
    for (const k of INGEST_FIELDS) {
      if (Array.isArray(form[k])) errors.push({ field: k, message: `${k}: given more than once` });
    }
    if (errors.length) throw new AppError('VALIDATION_ERROR', 'Invalid event data', { errors });
    const ev = form.event as string | File | undefined;
    if (ev === undefined) throw new AppError('VALIDATION_ERROR', 'Invalid event data', { errors: [{ field: 'event', message: 'event is required' }] });
    const text = typeof ev === 'string' ? ev : await ev.text();
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      throw new AppError('VALIDATION_ERROR', 'Invalid event data', { errors: [{ field: 'event', message: 'event: must be a JSON object' }] });
    }
    checkBodyDepth(raw);
    const bytes = async (k: 'frame' | 'crop') => {
      const v = form[k] as string | File | undefined;
      if (v === undefined) return undefined;
      if (typeof v === 'string') throw new AppError('VALIDATION_ERROR', 'Invalid event data', { errors: [{ field: k, message: `${k}: must be a file upload` }] });
      return new Uint8Array(await v.arrayBuffer());
    };
    return { raw, frame: await bytes('frame'), crop: await bytes('crop') };
  }
  if (ct.startsWith('application/json') || ct === '') return { raw: await readJson(c) };
  throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json or multipart/form-data');
}

/**
 * Binds an event ingested with an edge's key to that edge (sets `metadata.edge_worker_id`), or
 * refuses it (403) when it claims another edge or a camera of another edge.
 */
async function bindToEdge(ctx: CloudContext, p: Principal, ev: EventIngestParsed): Promise<void> {
  if (p.kind !== 'edge') return;
  const meta = ev.metadata as Record<string, unknown>;
  const claimed = meta.edge_worker_id;
  if (claimed !== undefined && claimed !== p.edgeId) {
    throw new AppError('FORBIDDEN', `This key belongs to edge ${p.edgeId}; it cannot ingest events of another edge (metadata.edge_worker_id)`);
  }
  if (ev.camera_id) {
    const owner = await ctx.config.edgeOf('cameras', ev.camera_id);
    if (typeof owner === 'string' && owner !== p.edgeId) {
      throw new AppError('FORBIDDEN', `Camera ${ev.camera_id} is assigned to another edge; edge ${p.edgeId} cannot ingest its events`);
    }
  }
  meta.edge_worker_id = p.edgeId;
}

/** The edge an event was ingested by (`metadata.edge_worker_id`), or undefined. */
function edgeOf(row: EventRow): unknown {
  try {
    return (JSON.parse(row.body) as { metadata?: Record<string, unknown> }).metadata?.edge_worker_id;
  } catch {
    return undefined;
  }
}

export function registerEventRoutes(app: OpenAPIHono<Env>, ctx: CloudContext, clientIp: (c: Context) => string): void {
  const auth = requireAuth(ctx, { apiKey: true });
  const jwtOnly = requireAuth(ctx);
  const eventsLimit = rateLimit(ctx.limiter, 'events', clientIp);

  // Body size: the app-wide limits (cloud/http/body-limit.ts), JSON or multipart (cloud/app.ts).
  app.post(
    '/events/ingest',
    auth,
    eventsLimit,
    async (c) => {
      const { raw, frame, crop } = await readIngest(c);
      const ev = validate(EventIngest, raw, 'Invalid event data');
      const p = c.get('principal');
      if (p.kind === 'edge') refuseSecondInstallation(ctx, c, p.edgeId);
      await bindToEdge(ctx, p, ev);
      const types = { frame: frame && checkImage('frame', frame, ctx.images.maxBytes), crop: crop && checkImage('crop', crop, ctx.images.maxBytes) };
      // With images, a known duplicate is refused before anything is written to disk; without,
      // the insert itself detects it and the extra lookup would only cost time.
      if ((frame || crop) && await ctx.events.exists(ev.event_id)) {
        throw new AppError('DUPLICATE_RESOURCE', `Event with ID ${ev.event_id} already exists`);
      }
      const now = Date.now();
      const ts = ev.timestamp ? Date.parse(ev.timestamp) : now;
      const when = new Date(ts);
      const saved: string[] = [];
      // Cleanup of an ingest that failed: a leftover image is an orphan the sweep removes later, so
      // a store that cannot delete now never hides the ingest's own answer.
      const removeSaved = () => Promise.all(saved.map((p) => ctx.images.remove(p).catch(() => {})));
      let frame_path: string | null = null;
      let crop_path: string | null = null;
      try {
        if (frame) saved.push((frame_path = await ctx.images.save(ev.event_id, 'frame', frame, types.frame!, when)));
        if (crop) saved.push((crop_path = await ctx.images.save(ev.event_id, 'crop', crop, types.crop!, when)));
      } catch (e) {
        await removeSaved();
        throw e;
      }
      const meta = ev.metadata as Record<string, unknown>;
      const row: EventRow = {
        event_id: ev.event_id,
        ts,
        camera_id: ev.camera_id ?? null,
        zone_id: ev.zone_id ?? null,
        plate_text: ev.plate_text.toUpperCase(),
        confidence: ev.confidence ?? null,
        processing_ms: typeof meta.processing_time_ms === 'number' && Number.isFinite(meta.processing_time_ms) ? meta.processing_time_ms : null,
        body: JSON.stringify({ raw_candidates: ev.raw_candidates, vehicle_info: ev.vehicle_info ?? null, tpms_status: ev.tpms_status ?? null, decision: ev.decision ?? null, metadata: ev.metadata }),
        frame_path,
        crop_path,
        created_at: now,
        ...decisionColumns(ev.decision),
      };
      let result: 'inserted' | 'duplicate';
      try {
        result = await ctx.events.insert(row);
      } catch (e) {
        await removeSaved();
        throw e;
      }
      if (result === 'duplicate') {
        await removeSaved();
        throw new AppError('DUPLICATE_RESOURCE', `Event with ID ${ev.event_id} already exists`);
      }
      ctx.stream.announce(() => toApiEvent(row, baseUrlOf(c)));
      return c.json({ id: ev.event_id, status: 'accepted' as const, timestamp: iso(ts), message: 'Event queued for processing' }, 202);
    },
  );
  doc(app, 'post', '/events/ingest', {
    tag: 'Events',
    summary:
      "Ingest an event from an edge (JSON, or multipart with event + frame + crop images). With an edge's key, metadata.edge_worker_id is set from the key; another edge named there, or a camera assigned to another edge, is a 403 and nothing is stored",
    auth: ['apiKey', 'jwt'],
    body: EventIngest,
    multipart: z.object({ event: z.string().openapi({ description: 'The event as JSON text' }), frame: z.any().optional(), crop: z.any().optional() }),
    status: 202,
    response: IngestAccepted,
    errors: [400, 401, 403, 409, 413, 415, 429, 503],
  });

  app.get('/events', jwtOnly, eventsLimit, async (c) => {
    const q = validateQuery(EventListQuery, c);
    const { items, total } = await ctx.events.list(
      { camera_id: q.camera_id, zone_id: q.zone_id, plate_text: q.plate_text, start: q.start_date, end: q.end_date, min_confidence: q.min_confidence, action: q.action, alert: q.alert },
      q.sort_by,
      q.sort_order,
      q.skip,
      q.limit,
    );
    const base = baseUrlOf(c);
    return c.json({ items: items.map((r) => toApiEvent(r, base)), total, skip: q.skip, limit: q.limit });
  });
  doc(app, 'get', '/events', { tag: 'Events', summary: 'Search events (action=open|deny|alert|none and alert=true|false filter by the edge\'s decision)', query: EventListQuery as never, response: pageOf(Event, 'EventPage'), errors: [400, 401, 429] });

  app.get('/events/stats', jwtOnly, eventsLimit, async (c) => {
    const q = validateQuery(EventStatsQuery, c);
    const stats = await ctx.events.stats({ camera_id: q.camera_id, zone_id: q.zone_id, start: q.start_date, end: q.end_date }, q.interval);
    return c.json(stats);
  });
  doc(app, 'get', '/events/stats', {
    tag: 'Events',
    summary: 'Event statistics: totals, rates, per camera, per zone, timeline',
    query: EventStatsQuery as never,
    response: EventStats,
    errors: [400, 401, 429],
  });

  app.get('/events/:id', jwtOnly, eventsLimit, async (c) => {
    const row = await ctx.events.get(c.req.param('id'));
    if (!row) throw notFound('Event');
    return c.json(toApiEvent(row, baseUrlOf(c)));
  });
  doc(app, 'get', '/events/:id', { tag: 'Events', summary: 'One event', params: z.object({ id: z.string() }), response: Event, errors: [401, 404] });

  for (const kind of ['frame', 'crop'] as const) {
    app.get(`/events/:id/${kind}`, requireAuth(ctx, { apiKey: true }), requireRole('viewer', true), async (c) => {
      const row = await ctx.events.get(c.req.param('id'));
      const p = c.get('principal');
      if (row && p.kind === 'edge' && edgeOf(row) !== p.edgeId) {
        throw new AppError('FORBIDDEN', `This event was not ingested by edge ${p.edgeId}`);
      }
      const rel = row?.[`${kind}_path`];
      if (!row || !rel) throw notFound(kind === 'frame' ? 'Frame image' : 'Crop image');
      const image = await ctx.images.open(rel);
      if (!image) throw notFound('Image file');
      return c.body(image.body, 200, { 'content-type': image.type, 'content-length': String(image.size), 'cache-control': 'private, max-age=86400, immutable' });
    });
    doc(app, 'get', `/events/:id/${kind}`, { tag: 'Events', summary: `The event's ${kind} image (an edge's key: only its own edge's events, else 403)`, auth: ['jwt', 'apiKey'], params: z.object({ id: z.string() }), errors: [401, 403, 404] });
  }
}
