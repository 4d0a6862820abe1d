/**
 * Edges (gate boxes) as the cloud knows them: one schema per object, used by the cloud's API
 * and by the edge that sends or reads it.
 *
 * - An edge is registered with its API key: every key belongs to exactly one edge id
 *   (`anpr apikey create EDGE_ID`, `POST /api-keys {edge_id}`).
 * - `EdgeHeartbeat`: what an edge reports every `interval_s` (`POST /edges/{id}/heartbeat`, its
 *   own key). The cloud stamps `last_seen_at` with its own clock; `sent_at` only measures skew.
 * - `EdgeStatus`: what `GET /edges` and `GET /edges/{id}` serve. `offline` = unheard for
 *   OFFLINE_AFTER_INTERVALS heartbeat intervals; `degraded` = heard, but something is wrong
 *   (a camera not running, a config item refused, a config that failed to apply).
 * - `EdgeConfigBundle`: what one edge runs (`GET /edges/{id}/config`, ETag = `version`).
 * - `EdgeStatusMessage`: the `/events/stream` message announcing a change of status.
 */
import { z, Id, IsoDateTime, SafeString } from './common.js';
import { ListSummary } from './lists.js';

/** An edge unheard for this many of its heartbeat intervals is offline. */
export const OFFLINE_AFTER_INTERVALS = 3;
/** Default heartbeat interval of an edge, seconds. */
export const DEFAULT_HEARTBEAT_S = 5;
/** A heartbeat whose `sent_at` is further than this from the cloud's clock is refused (400 CLOCK_SKEW). */
export const MAX_CLOCK_SKEW_S = 300;

/**
 * The most items one edge runs. The cloud refuses a create or change that would give an edge more
 * (400 naming the field); an edge served more (a database filled before these checks) runs the
 * first ones by id and reports the rest.
 */
export const EDGE_LIMITS = { cameras: 64, zones: 256, sensors: 256, exporters: 16, lists: 1024 } as const;

export const EDGE_STATUSES = ['online', 'degraded', 'offline'] as const;
export type EdgeStatusName = (typeof EDGE_STATUSES)[number];

/** What a camera loop on the edge is doing. */
export const CAMERA_STATES = ['starting', 'running', 'reconnecting', 'stalled', 'disabled', 'invalid'] as const;

export const EdgeCameraHealth = z
  .object({
    id: Id,
    state: z.enum(CAMERA_STATES).describe('starting, running (frames arrive), reconnecting (ffmpeg restarted), stalled (a frame held too long), disabled, invalid (the cloud\'s item was refused)'),
    fps: z.number().min(0).max(1000).describe('Frames analysed per second over the last interval'),
    error: SafeString().max(1024).nullable().default(null).describe('Why the camera is not running, if it is not'),
  })
  .strict()
  .openapi('EdgeCameraHealth');

export const EdgeExporterHealth = z
  .object({
    id: SafeString().min(1).max(128).describe('Exporter id (`cloud` = delivery to this service)'),
    pending: z.number().int().min(0).describe('Events waiting to be delivered'),
    dead_letters: z.number().int().min(0).describe('Events given up on (failed permanently)'),
  })
  .strict()
  .openapi('EdgeExporterHealth');

/** A config item the edge refused or ran without some of its settings. */
export const EdgeConfigProblem = z
  .object({
    kind: z.enum(['cameras', 'zones', 'sensors', 'exporters', 'models']),
    id: SafeString().min(1).max(128),
    dropped: z.enum(['item', 'settings']).describe('item: not run; settings: run without the settings named'),
    errors: z.array(SafeString().max(1024)).max(32),
  })
  .strict()
  .openapi('EdgeConfigProblem');

export const EdgeConfigState = z
  .object({
    version: SafeString().max(128).nullable().describe('Config version in force on the edge (the ETag of GET /edges/{id}/config); null before the first sync'),
    applied_at: IsoDateTime.nullable().describe('When the edge applied it (edge clock)'),
    error: SafeString().max(2048).nullable().describe('Why the last sync or apply failed, or null'),
    problems: z.array(EdgeConfigProblem).max(512).default([]).describe('Items refused or run without some settings'),
  })
  .strict()
  .openapi('EdgeConfigState');

/** One access list an edge decides with, and its version (heartbeat, and EdgeStatus.lists). */
export const EdgeListVersion = z.object({ id: Id, version: z.string().max(128) }).strict().openapi('EdgeListVersion');

export const EdgeHeartbeat = z
  .object({
    instance_id: z
      .string()
      .regex(/^[A-Za-z0-9-]{8,64}$/, 'must be 8-64 characters of A-Z a-z 0-9 -')
      .describe('Identity of this edge installation (kept in its data dir): a second box with the same edge id has another one and is refused (409 EDGE_ID_IN_USE)'),
    sent_at: IsoDateTime.describe(`Edge clock when sent; more than ${MAX_CLOCK_SKEW_S} s from the cloud's clock is refused (400 CLOCK_SKEW)`),
    interval_s: z.number().min(1).max(300).default(DEFAULT_HEARTBEAT_S).describe(`Seconds until the next heartbeat, 1-300 (default ${DEFAULT_HEARTBEAT_S}); offline after ${OFFLINE_AFTER_INTERVALS} of them`),
    version: SafeString().min(1).max(64).describe('Software version of the edge'),
    uptime_s: z.number().min(0).max(1e10),
    health: z.enum(['ok', 'degraded']).describe("The edge's own verdict (its /healthz)"),
    problems: z.array(SafeString().max(1024)).max(64).default([]).describe('What makes it degraded, in words'),
    cameras: z.array(EdgeCameraHealth).max(256),
    outbox: z
      .object({
        pending: z.number().int().min(0),
        dead_letters: z.number().int().min(0),
        exporters: z.array(EdgeExporterHealth).max(64).default([]),
      })
      .strict(),
    config: EdgeConfigState,
    lists: z
      .array(EdgeListVersion)
      .max(EDGE_LIMITS.lists)
      .default([])
      .describe('The access lists this edge decides with now, and the version of each (the Lists page compares them with the current ones)'),
  })
  .strict()
  .openapi('EdgeHeartbeat');
export type EdgeHeartbeat = z.output<typeof EdgeHeartbeat>;
export type EdgeHeartbeatInput = z.input<typeof EdgeHeartbeat>;

export const EdgeStatus = z
  .object({
    id: Id,
    name: z.string(),
    status: z.enum(EDGE_STATUSES),
    last_seen_at: IsoDateTime.nullable().describe('Cloud clock at the last accepted heartbeat; null = never heard'),
    created_at: IsoDateTime,
    version: z.string().nullable(),
    uptime_s: z.number().nullable(),
    interval_s: z.number(),
    clock_skew_s: z.number().nullable().describe('Edge clock minus cloud clock at the last heartbeat, seconds'),
    problems: z.array(z.string()),
    cameras: z.array(EdgeCameraHealth),
    outbox: z.object({ pending: z.number().int(), dead_letters: z.number().int(), exporters: z.array(EdgeExporterHealth) }),
    config: EdgeConfigState.extend({
      current_version: z.string().describe('Version the cloud serves this edge now: equal to `version` when the edge is up to date'),
    }),
    assigned_cameras: z.array(Id).describe('Cameras the cloud assigns to this edge'),
    lists: z.array(EdgeListVersion).describe('The access lists the edge reported deciding with in its last heartbeat, and their versions (empty before one)'),
  })
  .openapi('EdgeStatus');
export type EdgeStatus = z.output<typeof EdgeStatus>;

/**
 * The answer to an accepted heartbeat: the status the cloud gives the edge, and the config version
 * it serves it now (the edge polls at once when that is not the one in force). Small on purpose:
 * 200 edges every 5 s.
 */
export const EdgeHeartbeatAck = z
  .object({
    id: Id,
    status: z.enum(EDGE_STATUSES),
    last_seen_at: IsoDateTime,
    problems: z.array(z.string()),
    config: z.object({ current_version: z.string() }),
  })
  .openapi('EdgeHeartbeatAck');
export type EdgeHeartbeatAck = z.output<typeof EdgeHeartbeatAck>;

/** `/events/stream` message when an edge's status changes. */
export const EdgeStatusMessage = z
  .object({
    type: z.literal('edge_status'),
    data: z.object({ id: Id, status: z.enum(EDGE_STATUSES), previous: z.enum(EDGE_STATUSES).nullable(), at: IsoDateTime, problems: z.array(z.string()) }),
  })
  .openapi('EdgeStatusMessage');
export type EdgeStatusMessage = z.output<typeof EdgeStatusMessage>;

/** What one edge runs: its cameras, their zones and sensors, the models, its exporters. */
export const EdgeConfigBundle = z
  .object({
    edge_id: Id,
    version: z.string().describe('Content version (also the ETag); unchanged config = unchanged version'),
    cameras: z.array(z.record(z.string(), z.unknown())),
    zones: z.array(z.record(z.string(), z.unknown())),
    sensors: z.array(z.record(z.string(), z.unknown())),
    models: z.array(z.record(z.string(), z.unknown())),
    exporters: z.array(z.record(z.string(), z.unknown())),
    lists: z.array(ListSummary).default([]).describe('The access lists this edge applies, without their entries (fetched page by page from /config/lists/{id}/entries when `version` changed)'),
  })
  .openapi('EdgeConfigBundle');
export type EdgeConfigBundle = z.output<typeof EdgeConfigBundle>;

export const EdgeCreate = z
  .object({
    id: Id.describe('Edge id, as in the edge\'s config `edge_id`'),
    name: SafeString().trim().min(1).max(128).optional().describe('Human-readable name (default: the id)'),
  })
  .strict()
  .openapi('EdgeCreate');
