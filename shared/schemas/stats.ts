/** The body of `GET /events/stats` (cloud/store/event-stats.ts computes it). */
import { z } from './common.js';

const Group = z.object({ count: z.number().int(), avg_confidence: z.number().nullable() });

export const EventStats = z
  .object({
    total_events: z.number().int(),
    avg_confidence: z.number().nullable(),
    min_confidence: z.number().nullable(),
    max_confidence: z.number().nullable(),
    unique_plates: z.number().int().describe('HyperLogLog estimate (±1.6 %), exact in practice for small counts'),
    event_rate: z.object({ per_second: z.number(), per_minute: z.number(), per_hour: z.number() }).describe('Events over the window: start_date (or the first event) to end_date (or now)'),
    by_camera: z.record(z.string(), Group),
    by_zone: z.record(z.string(), Group),
    timeline: z.array(z.object({ timestamp: z.string(), count: z.number().int(), avg_confidence: z.number().nullable() })),
  })
  .openapi('EventStats');
export type EventStats = z.infer<typeof EventStats>;
