/**
 * Config resources of the API contract: cameras, zones, models, sensors, exporters.
 * Each has a create schema (strict: unknown fields are errors; every field described with
 * its default and bounds) and a stored form that adds id and timestamps. PUT applies a
 * partial body by deep merge and validates the merged result with the same create schema.
 */
import { z, HttpUrl, Id, Metadata, Name, SafeString, boundedJson } from './common.js';
import { CameraRecognition, roiOutsideFrame } from './camera-recognition.js';
import { CameraCapture } from './camera-capture.js';
import { sensorConfigIssues } from './sensor-config.js';

/** Free-form settings of a sensor or an exporter (the exporter's MQTT settings are checked below). */
const FreeConfig = boundedJson(z.record(z.string(), z.unknown()), 16_384).describe('Free-form JSON object (≤ 16 KiB, nested ≤ 32 levels)');


/** rtsp:// or rtsps:// with a host; credentials allowed in the URL (they are redacted in logs). */
export const RtspUrl = SafeString()
  .max(2048)
  .refine((v) => {
    try {
      const u = new URL(v);
      return (u.protocol === 'rtsp:' || u.protocol === 'rtsps:') && u.hostname.length > 0 && !/\s/.test(v);
    } catch {
      return false;
    }
  }, 'Invalid RTSP URL format')
  .describe('rtsp://[user:password@]host[:port]/path')
  .openapi({ example: 'rtsp://admin:password@127.0.0.1:8554/stream1' });


const MqttUrl = SafeString()
  .max(2048)
  .refine((v) => {
    try {
      const u = new URL(v);
      return ['mqtt:', 'mqtts:', 'ws:', 'wss:'].includes(u.protocol) && u.hostname.length > 0;
    } catch {
      return false;
    }
  }, 'Invalid URL: expected mqtt://, mqtts://, ws:// or wss://');

/**
 * A camera's metadata: free-form as the contract says, except `recognition`, which holds the
 * camera's recognition settings (shared/schemas/camera-recognition.ts) and is validated.
 */
export const CameraMetadata = z
  .object({ recognition: CameraRecognition.nullable().optional(), capture: CameraCapture.nullable().optional() })
  .catchall(z.unknown())
  .superRefine((m, ctx) => {
    const r = Metadata.safeParse(m);
    if (!r.success) for (const i of r.error.issues) ctx.addIssue({ code: 'custom', path: i.path, message: i.message });
  })
  .openapi({
    description:
      'Free-form JSON object (≤ 16 KiB); `recognition` holds the camera\'s recognition settings (CameraRecognition) and `capture` its capture settings (CameraCapture), read by its edge',
    example: { location: 'Main gate', recognition: { regions: ['br'], roi: { x: 0, y: 360, width: 1920, height: 720 } } },
  });

/** Bounds and defaults of a camera's analysis, the same on both sides (the edge file uses these). */
export const CameraFps = z.number().min(0.2).max(60).describe('Frames per second to analyse, 0.2-60 (default 10)');
export const CameraResolution = z
  .object({
    width: z.number().int().min(64).max(7680).describe('Width in pixels, 64-7680'),
    height: z.number().int().min(64).max(4320).describe('Height in pixels, 64-4320'),
  })
  .strict()
  .describe('Size frames are fitted into before analysis, aspect ratio kept with black bars (default 1920x1080)');
export const CAMERA_DEFAULTS = { fps: 10, resolution: { width: 1920, height: 1080 } } as const;

const CameraFields = z
  .object({
    id: Id.optional().describe('Optional id; generated (cam-001, cam-002, …) when absent'),
    name: Name,
    rtsp_url: RtspUrl,
    enabled: z.boolean().default(true).describe('Whether its edge captures this camera (default true)'),
    edge_id: Id.nullable()
      .optional()
      .describe(
        'The edge (gate box) that captures this camera; null = none. Omitted on create: the only registered edge, or null when there is none; with several edges it is required (400)',
      ),
    zone_id: Id.nullable().default(null).describe('Default zone of this camera'),
    fps: CameraFps.default(CAMERA_DEFAULTS.fps),
    resolution: CameraResolution.default({ ...CAMERA_DEFAULTS.resolution }),
    detection_model: SafeString().max(128).nullable().default(null).describe('Vehicle/plate detector model name'),
    ocr_models: z.array(SafeString().min(1).max(128)).max(16).default([]).describe('OCR engines to run, by name'),
    metadata: CameraMetadata.default({}),
  })
  .strict();

/** The ROI of `metadata.recognition` is in pixels of the camera's `resolution`: it must lie inside. */
export const CameraCreate = CameraFields.superRefine((c, ctx) => {
  const roi = c.metadata.recognition?.roi;
  const why = roi ? roiOutsideFrame(roi, c.resolution) : null;
  if (why) ctx.addIssue({ code: 'custom', path: ['metadata', 'recognition', 'roi'], message: why });
}).openapi('CameraCreate');

export const Point = z
  .object({ x: z.number().min(0).max(10_000), y: z.number().min(0).max(10_000) })
  .strict()
  .openapi('Point');

/** Shoelace area; a polygon with no area (collinear points) is rejected. */
function polygonArea(pts: Array<{ x: number; y: number }>): number {
  let a = 0;
  for (let i = 0; i < pts.length; i++) {
    const p = pts[i]!;
    const q = pts[(i + 1) % pts.length]!;
    a += p.x * q.y - q.x * p.y;
  }
  return Math.abs(a) / 2;
}

export const ZonePolygon = z
  .object({
    type: z.literal('polygon'),
    points: z
      .array(Point)
      .min(3, 'a polygon needs at least 3 points')
      .max(64)
      .refine((pts) => polygonArea(pts) > 0, 'polygon has no area (points are collinear or repeated)'),
  })
  .strict()
  .describe('Polygon in frame pixel coordinates (0-10000), 3-64 points');

export const ZoneLine = z
  .object({
    type: z.literal('line'),
    points: z
      .array(Point)
      .length(2, 'a line has exactly 2 points')
      .refine((pts) => pts.length !== 2 || pts[0]!.x !== pts[1]!.x || pts[0]!.y !== pts[1]!.y, 'the two points of a line must differ'),
  })
  .strict()
  .describe('A line across the lane in frame pixel coordinates: every plate of the camera belongs to it; its `in_side` gives the direction');

export const ZoneGeometry = z
  .discriminatedUnion('type', [ZonePolygon, ZoneLine])
  .describe('A polygon (plates whose centre lies inside belong to the zone) or a line (a direction only)');
export type ZoneGeometry = z.output<typeof ZoneGeometry>;

/**
 * Which side of the zone's gate line is "in": the line is a `line` zone itself, or a polygon's first
 * edge (points[0] → points[1]). Left and right are seen walking from the first point to the second,
 * on the image (y grows downwards). A car whose plate moved towards that side went `in`, away from
 * it `out` (edge/decide/direction.ts); null = the zone gives no direction.
 */
export const ZoneInSide = z.enum(['left', 'right']).nullable().default(null).describe('Side of the gate line that is "in" (a line zone, or a polygon\'s first edge); null = no direction');

/** Plates of a zone's allow or deny list, as its edge reads them (the edge refuses longer entries). */
export const PlateList = z
  .array(SafeString().min(1, 'a plate must not be empty').max(32, 'a plate is at most 32 characters'))
  .max(100_000)
  .describe('Plates, 1-32 characters each, at most 100000');

/**
 * A zone's metadata: free-form, except `allow` and `deny`, the zone's plate lists that its edge
 * applies (edge/config/schema.ts EdgeZone), validated here so the cloud never stores a zone that
 * every edge would refuse.
 */
export const ZoneMetadata = z
  .object({
    allow: PlateList.optional().describe('Plates allowed through (the barrier opens); absent or empty = no allow list'),
    deny: PlateList.optional().describe('Plates never allowed; wins over allow'),
  })
  .catchall(z.unknown())
  .superRefine((m, ctx) => {
    const r = Metadata.safeParse(m);
    if (!r.success) for (const i of r.error.issues) ctx.addIssue({ code: 'custom', path: i.path, message: i.message });
  })
  .openapi({
    description: 'Free-form JSON object (≤ 16 KiB); `allow` and `deny` are the zone\'s plate lists (1-32 characters each), applied by its edge',
    example: { allow: ['ABC123'], deny: ['XYZ999'] },
  });

export const ZoneCreate = z
  .object({
    id: Id.optional().describe('Optional id; generated when absent'),
    name: Name,
    camera_id: Id.describe('Camera this zone belongs to'),
    type: z.enum(['enter', 'exit', 'both', 'parking', 'restricted', 'monitor']).default('monitor'),
    geometry: ZoneGeometry,
    in_side: ZoneInSide,
    metadata: ZoneMetadata.default({}),
  })
  .strict()
  .openapi('ZoneCreate');

export const ModelCreate = z
  .object({
    id: Id.optional(),
    name: Name,
    type: z.enum(['detector', 'plate_detector', 'ocr', 'classifier']),
    version: SafeString().max(64).default('1.0.0'),
    weights_path: SafeString().min(1).max(1024).describe('Path or name of the weights file on the edge'),
    sha256: z
      .string()
      .regex(/^[a-f0-9]{64}$/, 'sha256 must be 64 lower-case hex digits')
      .optional(),
    parameters: boundedJson(
      z
        .object({
          confidence_threshold: z.number().min(0).max(1).optional(),
          iou_threshold: z.number().min(0).max(1).optional(),
          input_size: z.number().int().min(16).max(4096).optional(),
        })
        .catchall(z.unknown()),
      16_384,
    ).default({}),
    metadata: Metadata.default({}),
  })
  .strict()
  .openapi('ModelCreate');

const SensorFields = z
  .object({
    id: Id.optional(),
    name: Name,
    type: z.enum(['tpms', 'barrier', 'rfid', 'loop', 'relay']),
    camera_id: Id.nullable().default(null),
    zone_id: Id.nullable().default(null),
    config: FreeConfig.default({}).describe(
      'Settings by type (shared/schemas/sensor-config.ts): barrier {relay: {kind: http|gpio|serial, …} or relay_pin, pulse_duration_ms, require_plate, directions}; tpms {sensor_port, baudrate, threshold}; rfid {sensor_port, baudrate, format}; free-form for other types. Stored as written',
    ),
    metadata: Metadata.default({}),
  })
  .strict();

/**
 * A sensor; its `config` is checked against its type's schema (shared/schemas/sensor-config.ts)
 * and stored as written. The check runs once the rest of the body is valid (an unknown field
 * is reported alone, not with every consequence of a half-read body).
 */
export const SensorCreate = SensorFields.superRefine(
  (s, ctx) => {
    for (const i of sensorConfigIssues(s.type, s.config)) ctx.addIssue({ code: 'custom', path: ['config', ...i.path], message: i.message });
  },
  { when: (payload) => payload.issues.length === 0 },
).openapi('SensorCreate');

export const RetryConfig = z
  .object({
    enabled: z.boolean().default(true),
    max_attempts: z.number().int().min(1).max(1000).default(5),
    backoff_strategy: z.enum(['exponential', 'linear', 'fixed']).default('exponential'),
    initial_delay_ms: z.number().int().min(10).max(3_600_000).default(1000),
    max_delay_ms: z.number().int().min(10).max(86_400_000).default(60_000),
  })
  .strict();

export const ExporterAuth = z
  .object({
    type: z.enum(['none', 'bearer', 'basic', 'api_key']),
    token: SafeString().max(4096).optional(),
    username: SafeString().max(256).optional(),
    password: SafeString().max(1024).optional(),
  })
  .strict()
  .superRefine((a, ctx) => {
    if ((a.type === 'bearer' || a.type === 'api_key') && !a.token) ctx.addIssue({ code: 'custom', path: ['token'], message: `token is required for ${a.type} auth` });
    if (a.type === 'basic' && !a.username) ctx.addIssue({ code: 'custom', path: ['username'], message: 'username is required for basic auth' });
  });

export const MqttConfig = z
  .object({
    topic: SafeString().min(1).max(512).default('anpr/{edge_id}/{camera_id}/events'),
    qos: z.union([z.literal(0), z.literal(1), z.literal(2)]).default(1),
    retain: z.boolean().default(false),
    username: SafeString().max(256).optional(),
    password: SafeString().max(1024).optional(),
    client_id: SafeString().max(128).optional(),
  })
  .strict();

export const ExporterCreate = z
  .object({
    id: Id.optional(),
    name: Name,
    type: z.enum(['rest', 'mqtt', 'webhook']),
    url: SafeString().max(2048),
    enabled: z.boolean().default(true),
    headers: z.record(z.string().regex(/^[A-Za-z0-9-]{1,128}$/, 'invalid header name'), SafeString().max(4096)).default({}),
    auth: ExporterAuth.default({ type: 'none' }),
    config: FreeConfig.default({}),
    edge_id: Id.nullable().default(null).describe('The one edge that delivers to this exporter; null = every edge (default null)'),
    retry_config: RetryConfig.default({ enabled: true, max_attempts: 5, backoff_strategy: 'exponential', initial_delay_ms: 1000, max_delay_ms: 60_000 }),
    metadata: Metadata.default({}),
  })
  .strict()
  .superRefine((e, ctx) => {
    const urlCheck = e.type === 'mqtt' ? MqttUrl : HttpUrl;
    const r = urlCheck.safeParse(e.url);
    if (!r.success) ctx.addIssue({ code: 'custom', path: ['url'], message: r.error.issues[0]!.message });
    if (e.type === 'mqtt') {
      const c = MqttConfig.safeParse(e.config);
      if (!c.success) for (const i of c.error.issues) ctx.addIssue({ code: 'custom', path: ['config', ...i.path.map(String)], message: i.message });
    }
    if (e.retry_config.max_delay_ms < e.retry_config.initial_delay_ms) {
      ctx.addIssue({ code: 'custom', path: ['retry_config', 'max_delay_ms'], message: 'max_delay_ms must be ≥ initial_delay_ms' });
    }
  })
  .openapi('ExporterCreate');

const Stamps = { id: z.string(), created_at: z.string(), updated_at: z.string() };
export const Camera = CameraFields.extend({ ...Stamps, edge_id: z.string().nullable() }).openapi('Camera');
export const Zone = ZoneCreate.extend(Stamps).openapi('Zone');
export const Model = ModelCreate.extend(Stamps).openapi('Model');
export const Sensor = SensorFields.extend(Stamps).openapi('Sensor');
export const Exporter = z
  .object({ ...Stamps, name: z.string(), type: z.string(), url: z.string(), enabled: z.boolean() })
  .catchall(z.unknown())
  .openapi('Exporter');

export type CameraCreate = z.output<typeof CameraCreate>;
export type ZoneCreate = z.output<typeof ZoneCreate>;
export type ExporterCreate = z.output<typeof ExporterCreate>;
