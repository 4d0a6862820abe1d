/**
 * `GET /events/export?format=csv`: every event matching the filters of `GET /events`, in its
 * sort order, as CSV. Streamed by keyset pages pulled only as fast as the client reads
 * (Web stream pull + socket backpressure), so memory stays about one page whatever the
 * size of the result.
 *
 * Under load (docs/cloud-limits.md):
 *  - an export holds one of `ANPR_EXPORTS_PER_USER` slots of its user and of `ANPR_EXPORTS_TOTAL`
 *    in all; beyond, 429 CONCURRENCY_LIMIT_EXCEEDED with Retry-After, before any row is read;
 *  - every page after the first is read on a later turn of the event loop (setImmediate), so
 *    a fast reader on loopback cannot chain pages in microtasks and starve /healthz and ingest;
 *  - a client that goes away cancels the stream: no further page is read and its slot is freed.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { z } from '../../shared/schemas/common.js';
import { EventListQuery } from '../../shared/schemas/queries.js';
import type { CloudContext } from '../context.js';
import { requireAuth } from '../auth/middleware.js';
import { validateQuery } from '../http/errors.js';
import { rateLimit } from '../http/rate-limit.js';
import type { Env } from '../http/types.js';
import { doc } from '../http/docs.js';
import type { ExportCursor, PlateCorrection, StoredEvent } from '../store/events-store.js';
import { principalKey } from '../http/rate-limit.js';
import { cloudLimits } from '../limits/settings.js';
import { Slots } from '../limits/slots.js';
import { retryAfterOnFull } from '../limits/retry-after.js';
import { csvStream } from '../http/csv-stream.js';

/** Rows per page: a page is read and formatted in one go (a few ms), then the loop turns. */
const PAGE = 200;

const { skip: _skip, limit: _limit, ...filters } = EventListQuery.shape;
export const ExportQuery = z
  .object({
    ...filters,
    format: z.enum(['csv']).default('csv').openapi({ description: 'Only csv for now' }),
    max_rows: z.coerce.number().int().min(1).max(100_000_000).optional().openapi({ description: 'Stop after this many rows (default: all)' }),
  })
  .strict()
  .superRefine((q, ctx) => {
    if (q.start_date !== undefined && q.end_date !== undefined && q.start_date > q.end_date) {
      ctx.addIssue({ code: 'custom', path: ['end_date'], message: 'end_date must not be before start_date' });
    }
  });

export const CSV_COLUMNS = [
  'event_id',
  'timestamp',
  'camera_id',
  'zone_id',
  'plate_text',
  'confidence',
  'original_plate_text',
  'corrected_by',
  'corrected_at',
  'candidates',
  'vehicle_type',
  'vehicle_color',
  'frame_url',
  'crop_url',
  'created_at',
] as const;

/** RFC 4180 quoting; cells a spreadsheet would run as a formula get a leading apostrophe. */
export function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  let s = String(v);
  if (/^[=+\-@\t\r]/.test(s) && typeof v === 'string') s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function csvRow(r: StoredEvent, base: string): string {
  const body = JSON.parse(r.body) as {
    raw_candidates?: Array<{ text: string; confidence: number; model: string }>;
    vehicle_info?: { type?: string; color?: string } | null;
    correction?: PlateCorrection;
  };
  const url = (kind: string) => `${base}/events/${encodeURIComponent(r.event_id)}/${kind}`;
  const cells = [
    r.event_id,
    new Date(r.ts).toISOString(),
    r.camera_id,
    r.zone_id,
    r.plate_text,
    r.confidence,
    body.correction?.original_plate_text ?? null,
    body.correction?.corrected_by ?? null,
    body.correction?.corrected_at ?? null,
    (body.raw_candidates ?? []).map((c) => `${c.model}:${c.text}:${c.confidence}`).join(';'),
    body.vehicle_info?.type ?? null,
    body.vehicle_info?.color ?? null,
    r.frame_path ? url('frame') : null,
    r.crop_path ? url('crop') : null,
    new Date(r.created_at).toISOString(),
  ];
  return cells.map(csvCell).join(',') + '\r\n';
}

export function registerExportRoutes(app: OpenAPIHono<Env>, ctx: CloudContext, clientIp: (c: Context) => string): void {
  const limits = cloudLimits();
  const slots = new Slots({ what: 'CSV exports', total: limits.exportsTotal, perKey: limits.exportsPerUser, retryAfterS: 5 });
  app.get('/events/export', retryAfterOnFull(), requireAuth(ctx), rateLimit(ctx.limiter, 'events', clientIp), (c) => {
    const q = validateQuery(ExportQuery, c);
    const release = slots.tryAcquire(principalKey(c.get('principal'), clientIp(c)));
    const f = { camera_id: q.camera_id, zone_id: q.zone_id, plate_text: q.plate_text, start: q.start_date, end: q.end_date, min_confidence: q.min_confidence, action: q.action, alert: q.alert };
    const base = c.get('baseUrl');
    let cursor: ExportCursor | null = null;
    let left = q.max_rows ?? Number.POSITIVE_INFINITY;
    const stream = csvStream({
      header: CSV_COLUMNS.join(',') + '\r\n',
      nextPage: async () => {
        const { items, next } = await ctx.events.pageAfter(f, q.sort_by, q.sort_order, cursor, Math.min(PAGE, left));
        left -= items.length;
        cursor = next;
        return { text: items.map((r) => csvRow(r, base)).join(''), last: !next || left <= 0 };
      },
      onError: (e) => ctx.log.error({ err: e }, 'export stopped: a page could not be read'),
      onEnd: release,
    });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    return c.body(stream, 200, {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="anpr-events-${stamp}.csv"`,
      'cache-control': 'no-store',
    });
  });
  doc(app, 'get', '/events/export', {
    tag: 'Events',
    summary: 'Export events as CSV (same filters and sort as GET /events; streamed)',
    query: ExportQuery as never,
    errors: [400, 401, 429],
  });
}
