/**
 * Cloud config sync: cameras, zones, sensors, models and exporters from the cloud's config API
 * (`GET /config/<kind>`, paged `{items,total,skip,limit}`, X-API-Key). The merged config is
 * validated like the file; the last good copy is cached in `data_dir/cloud-config.json` so an
 * edge that starts offline runs with what it last knew. Changes are emitted, not restarted.
 *
 * Cameras are checked one by one (the edge's camera schema, whose recognition fields are the
 * cloud's `metadata.recognition` schema): a bad recognition setting is dropped (the edge file's
 * value or the default applies), a camera that is invalid anyway keeps the version in force (or
 * is left out when there is none). Either is logged; the other cameras are not affected.
 */
import { EventEmitter } from 'node:events';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { request } from 'undici';
import type { Logger } from '../../shared/log.js';
import { redactUrl, silentLogger } from '../../shared/log.js';
import { writeFileAtomic } from '../outbox/outbox.js';
import { fieldErrors, isAppError } from '../../shared/errors.js';
import { CameraRecognition, RECOGNITION_KEYS } from '../../shared/schemas/camera-recognition.js';
import { EdgeCamera, type EdgeConfig } from './schema.js';
import { parseEdgeConfig } from './load.js';

export const CONFIG_KINDS = ['cameras', 'zones', 'sensors', 'models', 'exporters'] as const;
export type RemoteConfig = Record<(typeof CONFIG_KINDS)[number], Array<Record<string, unknown>>>;

/** Reads every page of one config list. */
export async function fetchList(baseUrl: string, apiKey: string, kind: string, timeoutMs = 15_000): Promise<Array<Record<string, unknown>>> {
  const items: Array<Record<string, unknown>> = [];
  for (let skip = 0; ; ) {
    const url = new URL(`config/${kind}?skip=${skip}&limit=1000`, baseUrl.endsWith('/') ? baseUrl : baseUrl + '/');
    const res = await request(url, { headers: { 'x-api-key': apiKey, accept: 'application/json' }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`GET /config/${kind}: HTTP ${res.statusCode} ${text.slice(0, 200)}`);
    const page = JSON.parse(text) as { items: Array<Record<string, unknown>>; total: number };
    items.push(...page.items);
    skip += page.items.length;
    if (!page.items.length || skip >= page.total) return items;
  }
}

export async function fetchRemote(baseUrl: string, apiKey: string, timeoutMs?: number): Promise<RemoteConfig> {
  const lists = await Promise.all(CONFIG_KINDS.map((k) => fetchList(baseUrl, apiKey, k, timeoutMs)));
  return Object.fromEntries(CONFIG_KINDS.map((k, i) => [k, lists[i]])) as RemoteConfig;
}

const clamp = (v: unknown, lo: number, hi: number, dflt: number) => (typeof v === 'number' && Number.isFinite(v) ? Math.min(hi, Math.max(lo, v)) : dflt);
const strArray = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A camera of the cloud's list that the edge could not take as it is. */
export interface CameraProblem {
  camera: string;
  /** `settings`: those recognition settings were ignored; `camera`: the camera was not taken. */
  dropped: 'settings' | 'camera';
  errors: string[];
}

/** Settings named by the issues (top-level keys of the recognition object). */
function keysOf(issues: ReadonlyArray<{ path: PropertyKey[]; code?: string; keys?: string[] }>): Set<string> {
  return new Set(issues.flatMap((i) => (i.path.length ? [String(i.path[0])] : i.code === 'unrecognized_keys' ? (i.keys ?? []) : [])));
}

/** The cloud's `metadata.recognition` of one camera, without the settings that fail the shared schema. */
function cloudRecognition(raw: unknown, errors: string[]): CameraRecognition {
  if (raw === undefined || raw === null) return {};
  if (!isObj(raw)) {
    errors.push('metadata.recognition: must be an object');
    return {};
  }
  const first = CameraRecognition.safeParse(raw);
  if (first.success) return first.data;
  errors.push(...fieldErrors(first.error.issues).map((e) => `metadata.recognition.${e.message}`));
  const bad = keysOf(first.error.issues);
  const rest = CameraRecognition.safeParse(Object.fromEntries(Object.entries(raw).filter(([k]) => !bad.has(k))));
  return rest.success ? rest.data : {};
}

/**
 * One camera of the cloud's list as an edge camera: the cloud's fields, its recognition
 * settings (else the file's for that camera), the edge-only settings from the file. Returns
 * null when it is invalid even without its bad recognition settings.
 */
function remoteCamera(c: Record<string, unknown>, base: EdgeConfig, problems: CameraProblem[]): Record<string, unknown> | null {
  const res = (c.resolution ?? {}) as { width?: number; height?: number };
  const local = base.cameras.find((b) => b.id === c.id);
  const errors: string[] = [];
  const rec = cloudRecognition(isObj(c.metadata) ? c.metadata.recognition : undefined, errors);
  const cam: Record<string, unknown> = {
    id: c.id,
    ...(typeof c.name === 'string' ? { name: c.name.slice(0, 128) } : {}),
    rtsp_url: c.rtsp_url,
    enabled: c.enabled !== false,
    zone_id: c.zone_id ?? null,
    fps: clamp(c.fps, 0.2, 30, 5),
    resolution: { width: Math.round(clamp(res.width, 64, 3840, 1280)), height: Math.round(clamp(res.height, 64, 2160, 720)) },
    // Edge-only settings survive from the file.
    ffmpeg_input_args: local?.ffmpeg_input_args ?? [],
    heartbeat_s: local?.heartbeat_s ?? 10,
  };
  // Recognition settings: the cloud's where it sets them, else the file's for this camera.
  for (const k of RECOGNITION_KEYS) {
    const v = rec[k] ?? local?.[k];
    if (v !== undefined && v !== null) cam[k] = v;
  }
  cam.hwaccel ??= 'none';
  let r = EdgeCamera.safeParse(cam);
  if (!r.success) {
    // A setting that does not fit this camera (an ROI outside the edge's frame size) is dropped alone.
    const bad = keysOf(r.error.issues);
    if ([...bad].every((k) => (RECOGNITION_KEYS as string[]).includes(k))) {
      errors.push(...fieldErrors(r.error.issues).map((e) => e.message));
      for (const k of bad) delete cam[k];
      r = EdgeCamera.safeParse(cam);
    }
  }
  const id = String(c.id);
  if (!r.success) {
    problems.push({ camera: id, dropped: 'camera', errors: [...errors, ...fieldErrors(r.error.issues).map((e) => e.message)] });
    return null;
  }
  if (errors.length) problems.push({ camera: id, dropped: 'settings', errors });
  return cam;
}

/**
 * The file's config with the cloud's lists in place of its own (cloud wins for what it serves).
 * A camera the edge cannot take keeps its version in `previous` (the config in force), if any;
 * each such camera is reported in `problems`.
 */
export function mergeRemote(base: EdgeConfig, remote: RemoteConfig, o: { previous?: EdgeConfig; problems?: CameraProblem[] } = {}): unknown {
  const problems = o.problems ?? [];
  const cameras = remote.cameras.flatMap((c) => {
    const cam = remoteCamera(c, base, problems);
    if (cam) return [cam];
    const kept = o.previous?.cameras.find((p) => p.id === c.id);
    return kept ? [kept] : [];
  });
  const zones = remote.zones.map((z) => {
    const md = (z.metadata ?? {}) as Record<string, unknown>;
    return {
      id: z.id,
      ...(typeof z.name === 'string' ? { name: z.name.slice(0, 128) } : {}),
      camera_id: z.camera_id,
      type: z.type ?? 'monitor',
      geometry: z.geometry,
      allow: strArray(md.allow),
      deny: strArray(md.deny),
      metadata: md,
    };
  });
  const strip = ({ id: _i, created_at: _c, updated_at: _u, ...rest }: Record<string, unknown>) => rest;
  const exporters = remote.exporters.filter((e) => e.enabled !== false && e.name !== 'cloud').map(strip);
  return {
    ...base,
    cameras,
    zones,
    sensors: remote.sensors,
    exporters,
  };
}

export interface CloudSyncOptions {
  base: EdgeConfig;
  logger?: Logger;
  /** Where the last good merged config is kept (default data_dir/cloud-config.json). */
  cachePath?: string;
}

/** Emits `change` (EdgeConfig) whenever the cloud's config differs from the one in force. */
export class CloudConfigSync extends EventEmitter {
  readonly cachePath: string;
  private readonly log: Logger;
  private timer: NodeJS.Timeout | null = null;
  private current: EdgeConfig;
  private currentKey: string;
  lastError: string | null = null;
  lastSyncAt: number | null = null;
  source: 'file' | 'cloud' | 'cache' = 'file';
  /** The cloud's model list in force (the daemon rebuilds its recognizer when it changes). */
  models: Array<Record<string, unknown>> = [];
  private modelsKey = '[]';
  /** Where the last good model list is kept (next to the config cache). */
  readonly modelsCachePath: string;
  /** Cameras of the last cloud read that the edge could not take as they are (logged when this changes). */
  problems: CameraProblem[] = [];
  private problemsKey = '[]';

  constructor(private readonly o: CloudSyncOptions) {
    super();
    this.cachePath = o.cachePath ?? join(o.base.data_dir, 'cloud-config.json');
    this.modelsCachePath = this.cachePath.replace(/(\.json)?$/, '.models.json');
    this.log = (o.logger ?? silentLogger).child({ component: 'config-sync' });
    this.current = o.base;
    this.currentKey = JSON.stringify(o.base);
  }

  /** The config to start with: the cloud's, else the cached last good copy, else the file's. */
  async initial(): Promise<EdgeConfig> {
    try {
      const { cfg, models } = await this.fetchMerged();
      this.adopt(cfg, models, 'cloud');
      return cfg;
    } catch (e) {
      this.lastError = redactUrl((e as Error).message);
      this.log.warn({ error: this.lastError }, 'cloud config unavailable at start');
    }
    try {
      const cached = parseEdgeConfig(JSON.parse(readFileSync(this.cachePath, 'utf8')), this.cachePath);
      // Local, non-synced settings always come from the file in force.
      const cfg = { ...this.o.base, cameras: cached.cameras, zones: cached.zones, sensors: cached.sensors, exporters: cached.exporters };
      let models: Array<Record<string, unknown>> = [];
      try {
        const m = JSON.parse(readFileSync(this.modelsCachePath, 'utf8')) as unknown;
        if (Array.isArray(m)) models = m.filter((x): x is Record<string, unknown> => !!x && typeof x === 'object');
      } catch {
        /* no cached model list: none */
      }
      this.adopt(cfg, models, 'cache');
      this.log.info('running on the cached cloud config');
      return cfg;
    } catch {
      return this.o.base;
    }
  }

  start(): void {
    const every = (this.o.base.cloud?.sync_interval_s ?? 30) * 1000;
    this.timer = setInterval(() => void this.syncOnce(), every);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One poll; emits `change` when the merged config or the model list differs. Never throws. */
  async syncOnce(): Promise<boolean> {
    try {
      const { cfg, models } = await this.fetchMerged();
      this.lastError = null;
      const key = JSON.stringify(cfg);
      this.lastSyncAt = Date.now();
      if (key === this.currentKey && JSON.stringify(models) === this.modelsKey) return false;
      this.adopt(cfg, models, 'cloud');
      this.emit('change', cfg);
      return true;
    } catch (e) {
      this.lastError = isAppError(e) ? `${e.message}: ${(e.errors ?? []).map((x) => x.message).join('; ')}` : redactUrl((e as Error).message);
      this.log.warn({ error: this.lastError }, 'cloud config sync failed; keeping the config in force');
      return false;
    }
  }

  private async fetchMerged(): Promise<{ cfg: EdgeConfig; models: Array<Record<string, unknown>> }> {
    const cloud = this.o.base.cloud;
    if (!cloud) throw new Error('no cloud configured');
    const remote = await fetchRemote(cloud.url, cloud.api_key, cloud.timeout_ms);
    // Timestamps alone are not a change of the model set.
    const models = remote.models.map(({ created_at: _c, updated_at: _u, ...m }) => m);
    const problems: CameraProblem[] = [];
    const cfg = parseEdgeConfig(mergeRemote(this.o.base, remote, { previous: this.current, problems }), 'cloud config');
    this.report(problems);
    return { cfg, models };
  }

  /** Logs the cameras the edge could not take, once per distinct set (not on every poll). */
  private report(problems: CameraProblem[]): void {
    const key = JSON.stringify(problems);
    if (key === this.problemsKey) return;
    this.problems = problems;
    this.problemsKey = key;
    for (const p of problems) {
      if (p.dropped === 'settings') this.log.warn({ camera: p.camera, errors: p.errors }, "camera recognition settings from the cloud are invalid; those settings are ignored (the edge's own or the default apply)");
      else this.log.error({ camera: p.camera, errors: p.errors }, 'camera from the cloud is invalid; the version in force (if any) keeps running');
    }
  }

  private adopt(cfg: EdgeConfig, models: Array<Record<string, unknown>>, source: 'cloud' | 'cache'): void {
    this.current = cfg;
    this.currentKey = JSON.stringify(cfg);
    this.models = models;
    this.modelsKey = JSON.stringify(models);
    this.source = source;
    if (source === 'cloud') {
      mkdirSync(dirname(this.cachePath), { recursive: true });
      const { cloud: _secret, ...cacheable } = cfg;
      writeFileAtomic(this.cachePath, Buffer.from(JSON.stringify({ ...cacheable, cloud: null }, null, 2)));
      writeFileAtomic(this.modelsCachePath, Buffer.from(JSON.stringify(models, null, 2)));
    }
  }
}
