/**
 * Plate corrections: `PATCH /events/{id}` (operators and admins) replaces a misread plate
 * text; the event keeps its original read and the audit trail (who, when, from, to, why)
 * in `correction`, which `GET /events/{id}/correction` also serves to viewers.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { AppError } from '../../shared/errors.js';
import { z } from '../../shared/schemas/common.js';
import { Correction, Event, PlateText } from '../../shared/schemas/event.js';
import type { CloudContext } from '../context.js';
import { requireAuth, requireRole } from '../auth/middleware.js';
import { notFound, validate, readJson } from '../http/errors.js';
import { rateLimit } from '../http/rate-limit.js';
import type { Env } from '../http/types.js';
import { doc } from '../http/docs.js';
import type { PlateCorrection, StoredEvent } from '../store/events-store.js';
import { baseUrlOf, toApiEvent } from './events.js';

export const EventPatch = z
  .object({
    plate_text: PlateText.describe('The corrected plate text (stored upper-case)'),
    reason: z.string().trim().max(500).optional().describe('Why, for the audit trail'),
  })
  .strict()
  .openapi('EventPatch');

export function correctionOf(row: StoredEvent): PlateCorrection | null {
  return (JSON.parse(row.body) as { correction?: PlateCorrection }).correction ?? null;
}

export function registerCorrectionRoutes(app: OpenAPIHono<Env>, ctx: CloudContext, clientIp: (c: Context) => string): void {
  const limit = rateLimit(ctx.limiter, 'events', clientIp);

  app.patch('/events/:id', requireAuth(ctx), requireRole('operator'), limit, async (c) => {
    const patch = validate(EventPatch, await readJson(c));
    const id = c.req.param('id');
    const by = (c.get('principal') as { username: string }).username;
    const text = patch.plate_text.toUpperCase();
    const current = await ctx.events.get(id);
    if (!current) throw notFound('Event');
    if (current.plate_text === text) {
      throw new AppError('VALIDATION_ERROR', 'Validation error', { errors: [{ field: 'plate_text', message: 'plate_text: is already the event plate text' }] });
    }
    const row = await ctx.events.correctPlate(id, text, by, patch.reason || null);
    if (!row) throw notFound('Event');
    ctx.log.info({ event_id: id, from: current.plate_text, to: text, by }, 'plate corrected');
    return c.json(toApiEvent(row, baseUrlOf(c)));
  });
  doc(app, 'patch', '/events/:id', {
    tag: 'Events',
    summary: 'Correct a misread plate (operator); the original read and the audit trail are kept in the event',
    params: z.object({ id: z.string() }),
    body: EventPatch,
    response: Event,
    errors: [400, 401, 403, 404, 429],
  });

  app.get('/events/:id/correction', requireAuth(ctx), limit, async (c) => {
    const row = await ctx.events.get(c.req.param('id'));
    if (!row) throw notFound('Event');
    return c.json({ event_id: row.event_id, plate_text: row.plate_text, correction: correctionOf(row) });
  });
  doc(app, 'get', '/events/:id/correction', {
    tag: 'Events',
    summary: "An event's correction audit trail (null when never corrected)",
    params: z.object({ id: z.string() }),
    response: z.object({ event_id: z.string(), plate_text: z.string(), correction: Correction.nullable() }).openapi('EventCorrection'),
    errors: [401, 404],
  });
}
