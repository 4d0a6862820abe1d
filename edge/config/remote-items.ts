/**
 * The cloud's config items as the edge runs them, checked one by one.
 *
 * Guarantees:
 * - One item never costs the others: each camera, zone, sensor and exporter is validated alone
 *   (with the same field schemas as the cloud's API; the edge adds only edge-only fields). An item
 *   the edge cannot run keeps its version in force, or is left out when there is none; a setting
 *   the edge cannot take (a recognition or capture setting) is dropped alone and the item runs.
 * - Every such item is reported as an EdgeConfigProblem `{kind, id, dropped, errors}` (healthz,
 *   /status and the heartbeat say it); nothing is clamped or guessed silently.
 * - Edge-only settings of a cloud camera (hwaccel, ffmpeg_input_args, heartbeat_s, recognition
 *   settings) come from the edge file where the cloud sets none.
 */
import { EDGE_LIMITS } from '../../shared/schemas/edge.js';
import { fieldErrors } from '../../shared/errors.js';
import { CameraRecognition, RECOGNITION_KEYS } from '../../shared/schemas/camera-recognition.js';
import { CameraCapture, captureInputArgs } from '../../shared/schemas/camera-capture.js';
import { ExporterCreate, SensorCreate } from '../../shared/schemas/config.js';
import { DEFAULT_CAMERA_HEARTBEAT_S, EdgeCamera, EdgeZone, type EdgeConfig } from './schema.js';

export const CONFIG_KINDS = ['cameras', 'zones', 'sensors', 'models', 'exporters'] as const;
export type ConfigKind = (typeof CONFIG_KINDS)[number];
export type RemoteConfig = Record<ConfigKind, Array<Record<string, unknown>>>;

/** A config item the edge refused (`item`) or runs without some of its settings (`settings`): shared EdgeConfigProblem. */
export interface ConfigProblem {
  kind: ConfigKind;
  id: string;
  dropped: 'item' | 'settings';
  errors: string[];
}

type Issues = ReadonlyArray<{ path: PropertyKey[]; code?: string; keys?: string[]; message: string }>;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** Error lines are reported to the cloud and in logs: no control characters, bounded. */
const clean = (s: string) => s.replace(/[\u0000-\u001f\u007f]/g, '?').slice(0, 1000);
const messages = (issues: Issues, prefix = '') => fieldErrors(issues as never).map((e) => clean(prefix + e.message));
/** An item's id as reported (the cloud's id, or a stand-in that says it had none). */
export const itemId = (v: unknown, i: number): string => (typeof v === 'string' && v.length > 0 && v.length <= 128 ? clean(v) : `#${i}`);

/** Settings named by the issues (top-level keys of the object). */
function keysOf(issues: Issues): Set<string> {
  return new Set(issues.flatMap((i) => (i.path.length ? [String(i.path[0])] : i.code === 'unrecognized_keys' ? (i.keys ?? []) : [])));
}

/** A settings object of a camera's metadata, without the settings that fail its shared schema. */
function settingsOf<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: Issues } } }, raw: unknown, name: string, errors: string[]): Partial<T> {
  if (raw === undefined || raw === null) return {};
  if (!isObj(raw)) {
    errors.push(`metadata.${name}: must be an object`);
    return {};
  }
  const first = schema.safeParse(raw);
  if (first.success) return first.data;
  errors.push(...messages(first.error.issues, `metadata.${name}.`));
  const bad = keysOf(first.error.issues);
  const rest = schema.safeParse(Object.fromEntries(Object.entries(raw).filter(([k]) => !bad.has(k))));
  return rest.success ? rest.data : {};
}

/**
 * One camera of the cloud's list as an edge camera: the cloud's fields and its recognition and
 * capture settings (else the file's for that camera). Null when it is invalid even without its
 * bad settings.
 */
function remoteCamera(c: Record<string, unknown>, id: string, base: EdgeConfig, problems: ConfigProblem[]): EdgeCamera | null {
  const local = base.cameras.find((b) => b.id === c.id);
  const errors: string[] = [];
  const md = isObj(c.metadata) ? c.metadata : {};
  const rec = settingsOf(CameraRecognition, md.recognition, 'recognition', errors);
  const cap = settingsOf(CameraCapture, md.capture, 'capture', errors);
  const cam: Record<string, unknown> = {
    id: c.id,
    ...(c.name !== undefined ? { name: c.name } : {}),
    rtsp_url: c.rtsp_url,
    enabled: c.enabled !== false,
    zone_id: c.zone_id ?? null,
    // Validated by the shared bounds, never clamped: absent means the shared default.
    ...(c.fps !== undefined ? { fps: c.fps } : {}),
    ...(c.resolution !== undefined ? { resolution: c.resolution } : {}),
    heartbeat_s: cap.heartbeat_s ?? local?.heartbeat_s ?? DEFAULT_CAMERA_HEARTBEAT_S,
    ffmpeg_input_args: cap.input_options ? captureInputArgs(cap as CameraCapture) : (local?.ffmpeg_input_args ?? []),
  };
  // Recognition settings (hwaccel among them): the cloud's where it sets them, else the file's for this camera.
  for (const k of RECOGNITION_KEYS) {
    const v = rec[k] ?? local?.[k];
    if (v !== undefined && v !== null) cam[k] = v;
  }
  let r = EdgeCamera.safeParse(cam);
  if (!r.success) {
    // A setting that does not fit this camera (an ROI outside its frame) is dropped alone.
    const bad = keysOf(r.error.issues);
    if ([...bad].every((k) => (RECOGNITION_KEYS as string[]).includes(k))) {
      errors.push(...messages(r.error.issues));
      for (const k of bad) delete cam[k];
      r = EdgeCamera.safeParse(cam);
    }
  }
  if (!r.success) {
    problems.push({ kind: 'cameras', id, dropped: 'item', errors: [...errors, ...messages(r.error.issues)] });
    return null;
  }
  if (errors.length) problems.push({ kind: 'cameras', id, dropped: 'settings', errors });
  return r.data;
}

function remoteZone(z: Record<string, unknown>, id: string, problems: ConfigProblem[]): EdgeZone | null {
  const md = isObj(z.metadata) ? z.metadata : {};
  const r = EdgeZone.safeParse({
    id: z.id,
    ...(z.name !== undefined ? { name: z.name } : {}),
    camera_id: z.camera_id,
    type: z.type ?? 'monitor',
    geometry: z.geometry,
    in_side: z.in_side ?? null,
    allow: md.allow ?? [],
    deny: md.deny ?? [],
    metadata: md,
  });
  if (r.success) return r.data;
  // metadata.allow is where the cloud keeps `allow`: say so in the error.
  problems.push({ kind: 'zones', id, dropped: 'item', errors: messages(r.error.issues).map((m) => m.replace(/^(allow|deny)\b/, 'metadata.$1')) });
  return null;
}

const stamps = ({ created_at: _c, updated_at: _u, ...rest }: Record<string, unknown>) => rest;

function remoteSensor(s: Record<string, unknown>, id: string, problems: ConfigProblem[]): Record<string, unknown> | null {
  const r = SensorCreate.safeParse(stamps(s));
  if (r.success) return s;
  problems.push({ kind: 'sensors', id, dropped: 'item', errors: messages(r.error.issues) });
  return null;
}

function remoteExporter(e: Record<string, unknown>, id: string, names: Set<string>, problems: ConfigProblem[]): Record<string, unknown> | null {
  const { id: _id, ...body } = stamps(e);
  const r = ExporterCreate.safeParse(body);
  if (!r.success) {
    problems.push({ kind: 'exporters', id, dropped: 'item', errors: messages(r.error.issues) });
    return null;
  }
  if (names.has(r.data.name)) {
    problems.push({ kind: 'exporters', id, dropped: 'item', errors: [`name: duplicate exporter name ${clean(r.data.name)} ('cloud' is reserved for delivery to the cloud)`] });
    return null;
  }
  names.add(r.data.name);
  return body;
}

/**
 * Each item of one list through `take`; an item it refuses keeps its version in force (found
 * in `previous` by `same`), if any. Duplicate ids are refused after the first.
 */
function perItem<T>(
  kind: ConfigKind,
  items: Array<Record<string, unknown>>,
  previous: T[],
  same: (p: T, id: string) => boolean,
  take: (item: Record<string, unknown>, id: string) => T | null,
  problems: ConfigProblem[],
): T[] {
  const out: T[] = [];
  const seen = new Set<string>();
  const most = EDGE_LIMITS[kind as keyof typeof EDGE_LIMITS] ?? Infinity;
  items.forEach((item, i) => {
    const id = itemId(isObj(item) ? item.id : undefined, i);
    if (out.length >= most) {
      problems.push({ kind, id, dropped: 'item', errors: [`an edge runs at most ${most} ${kind}; this one is past that`] });
      return;
    }
    if (seen.has(id)) {
      problems.push({ kind, id, dropped: 'item', errors: [`id: duplicate ${kind.replace(/s$/, '')} id ${id}`] });
      return;
    }
    seen.add(id);
    const got = isObj(item) ? take(item, id) : (problems.push({ kind, id, dropped: 'item', errors: ['must be an object'] }), null);
    if (got) return void out.push(got);
    const kept = previous.find((p) => same(p, id));
    if (kept) out.push(kept);
  });
  return out;
}

/**
 * The file's config with the cloud's lists in place of its own (the cloud wins for what it
 * serves), each item checked alone. An item the edge cannot run keeps its version in `previous`
 * (the config in force), if any; each is reported in `problems`.
 */
export function mergeRemote(base: EdgeConfig, remote: RemoteConfig, o: { previous?: EdgeConfig; problems?: ConfigProblem[] } = {}): EdgeConfig {
  const problems = o.problems ?? [];
  const prev = o.previous;
  const cameras = perItem('cameras', remote.cameras, prev?.cameras ?? [], (p, id) => p.id === id, (c, id) => remoteCamera(c, id, base, problems), problems);
  const zones = perItem('zones', remote.zones, prev?.zones ?? [], (p, id) => p.id === id, (z, id) => remoteZone(z, id, problems), problems);
  const sensors = perItem('sensors', remote.sensors, prev?.sensors ?? [], (p, id) => p.id === id, (s, id) => remoteSensor(s, id, problems), problems);
  // The cloud's own delivery is `cloud`; disabled exporters are not run (not a problem).
  const names = new Set<string>(base.cloud?.deliver_events ? ['cloud'] : []);
  const enabled = remote.exporters.filter((e) => !isObj(e) || (e.enabled !== false && e.name !== 'cloud'));
  const prevExporters = (prev?.exporters ?? []) as Array<Record<string, unknown>>;
  const byId = new Map(remote.exporters.filter(isObj).map((e) => [String(e.id), e.name]));
  const exporters = perItem(
    'exporters',
    enabled,
    prevExporters,
    (p, id) => p.name === byId.get(id) && !names.has(String(p.name)),
    (e, id) => remoteExporter(e, id, names, problems),
    problems,
  ) as EdgeConfig['exporters'];
  return { ...base, cameras, zones, sensors, exporters };
}

/** Log/health wording of one problem. */
export function describeProblem(p: ConfigProblem): string {
  const what = `${p.kind.replace(/s$/, '')} ${p.id}`;
  return p.dropped === 'item' ? `config: ${what} refused (${p.errors.join('; ')})` : `config: ${what} runs without some settings (${p.errors.join('; ')})`;
}
