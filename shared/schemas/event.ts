/**
 * The plate event: what an edge sends to `POST /events/ingest` and what the cloud serves.
 * One definition for both sides (the edge's outbox stores exactly `EventIngest`).
 */
import { z, Id, IsoDateTime, Metadata, Box } from './common.js';
import { Decision } from './lists.js';

export const RawCandidate = z
  .object({
    text: z.string().max(32),
    confidence: z.number().min(0).max(1),
    model: z.string().min(1).max(64),
  })
  .strict()
  .openapi('RawCandidate');
export type RawCandidate = z.infer<typeof RawCandidate>;

export const VehicleInfo = z
  .object({
    color: z.string().max(32).optional(),
    type: z.string().max(32).optional(),
    confidence: z.number().min(0).max(1).optional(),
    bbox: Box.optional(),
  })
  .strict()
  .openapi('VehicleInfo');

export const TpmsStatus = z
  .object({
    sensors: z.number().int().min(0).max(64).optional(),
    temperature: z.number().min(-100).max(300).optional(),
    pressure: z.number().min(0).max(100).optional(),
    status: z.string().max(32).optional(),
  })
  .strict()
  .openapi('TpmsStatus');

/** Plate text as read: letters (any script), digits, spaces, dashes and dots. */
export const PlateText = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(32)
  .regex(/^([\p{L}\p{N}][\p{L}\p{N} .·-]*)?$/u, 'may contain only letters, digits, spaces, dots and dashes');

export const EventIngest = z
  .object({
    event_id: Id.openapi({ example: 'evt-20231215-001-cam1', description: 'Unique per edge; a second ingest of the same id is a 409' }),
    timestamp: IsoDateTime.optional().openapi({ description: 'When the plate was seen; defaults to the time of receipt' }),
    camera_id: Id.nullish(),
    zone_id: Id.nullish(),
    plate_text: PlateText.openapi({ example: 'ABC123' }),
    confidence: z.number().min(0).max(1).nullish(),
    raw_candidates: z.array(RawCandidate).max(64).default([]),
    vehicle_info: VehicleInfo.nullish(),
    tpms_status: TpmsStatus.nullish(),
    decision: Decision.nullish().describe('What the gate did about this read, decided on the edge (an addition to the contract)'),
    metadata: Metadata.default({}),
  })
  .strict()
  .openapi('EventIngest');
export type EventIngest = z.input<typeof EventIngest>;
export type EventIngestParsed = z.output<typeof EventIngest>;

/** An operator's correction of the plate text: the original read and every change. */
export const Correction = z
  .object({
    original_plate_text: z.string().describe('What the recognition read, before any correction'),
    corrected_by: z.string(),
    corrected_at: z.string(),
    history: z.array(z.object({ from: z.string(), to: z.string(), by: z.string(), at: z.string(), reason: z.string().nullable() })),
  })
  .openapi('Correction');

export const Event = z
  .object({
    id: z.string(),
    event_id: z.string(),
    timestamp: z.string(),
    camera_id: z.string().nullable(),
    zone_id: z.string().nullable(),
    plate_text: z.string(),
    confidence: z.number().nullable(),
    raw_candidates: z.array(RawCandidate),
    frame_url: z.string().nullable(),
    crop_url: z.string().nullable(),
    vehicle_info: VehicleInfo.nullable(),
    tpms_status: TpmsStatus.nullable(),
    decision: Decision.nullable(),
    metadata: z.record(z.string(), z.unknown()),
    correction: Correction.nullable().describe('Set when an operator corrected plate_text (PATCH /events/{id})'),
    created_at: z.string(),
  })
  .openapi('Event');
export type Event = z.infer<typeof Event>;

export const IngestAccepted = z
  .object({ id: z.string(), status: z.literal('accepted'), timestamp: z.string(), message: z.string() })
  .openapi('IngestAccepted');
