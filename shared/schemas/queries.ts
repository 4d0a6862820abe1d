/** Query-string schemas of the events endpoints (strict: unknown parameters are errors). */
import { z, Id, PageQuery, QueryBool } from './common.js';
import { DECISION_ACTIONS } from './lists.js';

/** ISO 8601 date or date-time; without a zone it is taken as UTC. Parsed to ms. */
export const QueryDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/, 'must be an ISO 8601 date or date-time')
  .transform((v, ctx) => {
    const s = /T|\s/.test(v) && !/(Z|[+-]\d{2}:?\d{2})$/.test(v) ? `${v.replace(' ', 'T')}Z` : v;
    const ms = Date.parse(s);
    if (Number.isNaN(ms)) {
      ctx.addIssue({ code: 'custom', message: 'is not a valid date' });
      return z.NEVER;
    }
    return ms;
  })
  .openapi({ type: 'string', format: 'date-time' });

const dateOrder = (q: { start_date?: number; end_date?: number }, ctx: z.RefinementCtx) => {
  if (q.start_date !== undefined && q.end_date !== undefined && q.start_date > q.end_date) {
    ctx.addIssue({ code: 'custom', path: ['end_date'], message: 'end_date must not be before start_date' });
  }
};

export const EventListQuery = PageQuery.extend({
  camera_id: Id.optional(),
  zone_id: Id.optional(),
  plate_text: z.string().trim().min(1).max(32).optional().openapi({ description: 'Partial, case-insensitive match' }),
  start_date: QueryDate.optional().openapi({ description: 'Events at or after this time' }),
  end_date: QueryDate.optional().openapi({ description: 'Events at or before this time' }),
  min_confidence: z.coerce.number().min(0).max(1).optional(),
  action: z.enum(DECISION_ACTIONS).optional().openapi({ description: "Events whose decision (decided on the edge) took this action; events without a decision match none" }),
  alert: QueryBool.optional().openapi({ description: 'true: events whose decision alerted (a watch list matched, or action alert); false: all others' }),
  sort_by: z.enum(['timestamp', 'confidence', 'plate_text']).default('timestamp'),
  sort_order: z.enum(['asc', 'desc']).default('desc'),
})
  .strict()
  .superRefine(dateOrder);

export const EventStatsQuery = z
  .object({
    camera_id: Id.optional(),
    zone_id: Id.optional(),
    start_date: QueryDate.optional(),
    end_date: QueryDate.optional(),
    interval: z.enum(['minute', 'hour', 'day', 'week']).default('hour'),
  })
  .strict()
  .superRefine(dateOrder);

export const StreamQuery = z
  .object({
    token: z.string().optional(),
    api_key: z.string().optional(),
    camera_id: Id.optional(),
    zone_id: Id.optional(),
  })
  .strict();
