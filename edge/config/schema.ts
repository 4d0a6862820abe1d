/**
 * The edge's configuration file (`anpr edge --config FILE`, YAML or JSON). Strict: an unknown
 * key is an error, so a typo never silently disables something. Every field says what it does,
 * its default and its bounds. Zones and exporters have the same shape as the cloud's config API
 * (shared/schemas/config.ts), so the cloud's copy can replace the file's.
 */
import { z, Id } from '../../shared/schemas/common.js';
import { EDGE_LIMITS } from '../../shared/schemas/edge.js';
import { CAMERA_DEFAULTS, CameraFps, CameraResolution, ExporterCreate, ZoneCreate, PlateList, ZoneGeometry } from '../../shared/schemas/config.js';
import { CameraRecognition, HwAccelMode, roiOutsideFrame } from '../../shared/schemas/camera-recognition.js';
import { CameraCapture } from '../../shared/schemas/camera-capture.js';
import { DEFAULT_HEARTBEAT_S } from '../../shared/schemas/edge.js';
import { TimeZone } from '../../shared/schemas/lists.js';

/** The per-camera recognition settings: the same field schemas as the cloud's `metadata.recognition`. */
const R = CameraRecognition.shape;

/** The stream heartbeat's bounds: the cloud's `metadata.capture.heartbeat_s` (1-300 s), without its "not set". */
const HeartbeatS = CameraCapture.shape.heartbeat_s.unwrap().unwrap();

/** Default seconds without a frame before a camera's ffmpeg is restarted. */
export const DEFAULT_CAMERA_HEARTBEAT_S = 10;

/** NUL and other control characters: ffmpeg (spawn) cannot take them in an argument. */
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

/** A camera source: rtsp(s)://, http(s):// (MJPEG or any stream ffmpeg reads), or a file path. */
const SourceUrl = z
  .string()
  .min(1)
  .max(2048)
  .refine((v) => !CONTROL_CHARS.test(v), 'must not contain control characters (NUL, newline, ...)')
  .refine((v) => !/\s/.test(v) && (/^(rtsps?|https?|file):/i.test(v) || v.startsWith('/') || v.startsWith('.')), 'expected rtsp://, rtsps://, http(s)://, file: or a path')
  .describe('Stream URL: rtsp://[user:password@]host[:port]/path (RTSP over TCP), http(s):// (MJPEG), or a video file path (looped); credentials are never logged');

export const EdgeCamera = z
  .object({
    id: Id.describe('Camera id, unique on this edge (safe charset, 1-128 chars); part of event ids and MQTT topics'),
    name: z.string().max(128).optional().describe('Human-readable name (optional, ≤128 chars)'),
    rtsp_url: SourceUrl,
    enabled: z.boolean().default(true).describe('Capture this camera (default true)'),
    zone_id: Id.nullable().default(null).describe('Default zone of this camera, reported in its events (default null)'),
    fps: CameraFps.default(CAMERA_DEFAULTS.fps).describe(CameraFps.description!),
    resolution: CameraResolution.default({ ...CAMERA_DEFAULTS.resolution }).describe(CameraResolution.description!),
    hwaccel: HwAccelMode.default('none').describe('Hardware decoding: none, nvdec (NVIDIA on x86: -hwaccel cuda) or jetson (JetPack ffmpeg: -c:v h264_nvv4l2dec) (default none)'),
    ffmpeg_input_args: z
      .array(z.string().max(256).refine((v) => !CONTROL_CHARS.test(v), 'must not contain control characters'))
      .max(32)
      .default([])
      .describe("Extra ffmpeg input options before -i, unrestricted in this file (default none, ≤32); the cloud's metadata.capture.input_options (an allowlist) win"),
    heartbeat_s: HeartbeatS.default(DEFAULT_CAMERA_HEARTBEAT_S).describe(`No frame for this many seconds = camera dead, ffmpeg restarted, 1-300 (default ${DEFAULT_CAMERA_HEARTBEAT_S}); the cloud's metadata.capture.heartbeat_s wins`),
    regions: R.regions,
    roi: R.roi,
    min_plate_height: R.min_plate_height,
    min_confidence: R.min_confidence,
    confirm_frames: R.confirm_frames,
  })
  .strict()
  .superRefine((c, ctx) => {
    const why = c.roi ? roiOutsideFrame(c.roi, c.resolution) : null;
    if (why) ctx.addIssue({ code: 'custom', path: ['roi'], message: why });
  });
export type EdgeCamera = z.output<typeof EdgeCamera>;

export const EdgeZone = z
  .object({
    id: Id.describe('Zone id (safe charset)'),
    name: z.string().max(128).optional().describe('Human-readable name (optional)'),
    camera_id: Id.describe('Camera the polygon is drawn on'),
    type: ZoneCreate.shape.type.describe('What crossing it means: enter, exit, both, parking, restricted, monitor (default monitor)'),
    geometry: ZoneGeometry,
    in_side: ZoneCreate.shape.in_side,
    allow: PlateList.default([]).describe('Plates allowed through (barrier opens), 1-32 chars each, ≤100000; empty = no allow list (default [])'),
    deny: PlateList.default([]).describe('Plates never allowed; wins over allow (1-32 chars each, ≤100000; default [])'),
    metadata: z.record(z.string(), z.unknown()).default({}).describe('Free-form metadata (default {})'),
  })
  .strict();
export type EdgeZone = z.output<typeof EdgeZone>;

export const EdgeConfig = z
  .object({
    edge_id: Id.describe('This gate box\'s id, unique in the fleet (safe charset, 1-128 chars); prefixes every event id'),
    data_dir: z.string().min(1).max(1024).default('/var/lib/anpr').describe('Outbox database, images and the cloud-config cache (default /var/lib/anpr)'),
    cloud: z
      .object({
        url: z.string().url().max(2048).describe('Cloud base URL, e.g. http://cloud.example:8000'),
        api_key: z.string().min(8).max(512).describe('API key (`anpr apikey create`); sent as X-API-Key, never logged'),
        deliver_events: z.boolean().default(true).describe('Deliver events to the cloud (`POST /events/ingest`) (default true)'),
        sync_config: z.boolean().default(true).describe('Take cameras, zones, sensors, models and exporters from the cloud\'s config API (default true)'),
        sync_interval_s: z.number().min(2).max(3600).default(30).describe('How often the config version is checked (a changed one is fetched and applied), 2-3600 s (default 30)'),
        heartbeat_s: z
          .number()
          .min(1)
          .max(300)
          .default(DEFAULT_HEARTBEAT_S)
          .describe(`How often the edge reports its health to the cloud (POST /edges/{edge_id}/heartbeat), 1-300 s (default ${DEFAULT_HEARTBEAT_S}); unheard for 3 of them = offline`),
        timeout_ms: z.number().int().min(500).max(120_000).default(15_000).describe('HTTP timeout per request, 0.5-120 s (default 15000)'),
      })
      .strict()
      .nullable()
      .default(null)
      .describe('The cloud service; null runs the edge stand-alone (default null)'),
    timezone: TimeZone.default(() => Intl.DateTimeFormat().resolvedOptions().timeZone)
      .describe("The site's time zone (IANA, e.g. Europe/Berlin): access-list schedules without their own zone are read in it (default: the system's)"),
    cameras: z.array(EdgeCamera).max(EDGE_LIMITS.cameras).default([]).describe('Cameras (≤64; default none); with cloud config sync, the cloud\'s list replaces this one'),
    zones: z.array(EdgeZone).max(EDGE_LIMITS.zones).default([]).describe('Zones (≤256; default none). A camera with zones only reports plates whose centre lies in one'),
    sensors: z.array(z.record(z.string(), z.unknown())).max(EDGE_LIMITS.sensors).default([]).describe('Sensors as in the cloud config API (barrier, loop, ...); kept for decision hooks (default none)'),
    exporters: z.array(ExporterCreate).max(EDGE_LIMITS.exporters).default([]).describe('Extra destinations besides the cloud: mqtt, webhook/rest (≤16; default none)'),
    models: z
      .object({
        mirror: z.string().max(1024).nullable().default(null).describe('Directory of the model mirror (default null: npm-shipped models only)'),
        dir: z.string().max(1024).nullable().default(null).describe('Directory of downloaded/extra models (default null)'),
        providers: z.array(z.enum(['cpu', 'cuda', 'tensorrt'])).min(1).max(3).default(['cpu']).describe('ONNX Runtime execution providers in order of preference (default [cpu])'),
      })
      .strict()
      .default({ mirror: null, dir: null, providers: ['cpu'] })
      .describe('Recognition models'),
    regions: z.array(z.string().min(1).max(16)).max(16).default([]).describe('Plate formats to expect, e.g. [gb, eu]; empty accepts any (default [])'),
    recognition: z
      .object({
        dedup_window_s: z.number().min(0).max(3600).default(60).describe('Same plate on the same camera within this window is one event, 0-3600 s (default 60)'),
        min_frames: z.number().int().min(1).max(30).default(2).describe('Frames a track must have been seen in before it may become an event, 1-30 (default 2); the agreement that decides early is confirm_frames'),
      })
      .strict()
      .default({ dedup_window_s: 60, min_frames: 2 })
      .describe('Cross-frame consensus'),
    outbox: z
      .object({
        image_budget_mb: z.number().min(1).max(10_000_000).default(2048).describe('Disk for event images; oldest images are deleted beyond it, events never (default 2048 MiB)'),
        jpeg_quality: z.number().int().min(30).max(100).default(85).describe('JPEG quality of frame and crop images, 30-100 (default 85)'),
      })
      .strict()
      .default({ image_budget_mb: 2048, jpeg_quality: 85 })
      .describe('The durable event store'),
    delivery: z
      .object({
        initial_backoff_ms: z.number().int().min(10).max(600_000).default(500).describe('First retry delay ceiling, 10 ms-10 min (default 500)'),
        max_backoff_ms: z.number().int().min(100).max(3_600_000).default(60_000).describe('Largest retry delay ceiling, 0.1 s-1 h (default 60000); delays are full-jitter below it'),
      })
      .strict()
      .default({ initial_backoff_ms: 500, max_backoff_ms: 60_000 })
      .describe('Retry pacing for every exporter'),
    http: z
      .object({
        host: z.string().default('127.0.0.1').describe('Bind address of /healthz, /metrics, /status (default 127.0.0.1; keep it local: beyond loopback every route but /healthz needs the token)'),
        port: z.number().int().min(0).max(65535).default(8089).describe('Port, 0 = any free one (default 8089)'),
        token_file: z
          .string()
          .min(1)
          .max(1024)
          .nullable()
          .default(null)
          .describe('File holding the bearer token that POST routes (and, beyond loopback, /status and /metrics) require; created (0600) when missing; $ANPR_EDGE_OPS_TOKEN overrides it (default null: <data_dir>/ops-token)'),
      })
      .strict()
      .default({ host: '127.0.0.1', port: 8089, token_file: null })
      .describe('Local operations HTTP'),
    watchdog: z
      .object({
        stall_s: z
          .number()
          .min(1)
          .max(3600)
          .default(120)
          .describe('A camera loop holding one frame longer than this is wedged: /healthz says down (503) and the systemd watchdog is no longer petted, so systemd restarts the daemon; 1-3600 s (default 120, above the 30 s inference timeout)'),
      })
      .strict()
      .default({ stall_s: 120 })
      .describe('Liveness: when the daemon counts as wedged (a camera without a stream does not)'),
    log_level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info').describe('Log level (default info)'),
  })
  .strict();
export type EdgeConfig = z.output<typeof EdgeConfig>;
export type EdgeConfigInput = z.input<typeof EdgeConfig>;
