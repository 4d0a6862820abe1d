/**
 * The daemon's verdict on itself, one for every reader: `/healthz`, `/status`, the heartbeat to
 * the cloud and the metrics say the same thing.
 *
 * - `down` (503): the outbox is closed, or a camera loop holds one frame past `watchdog.stall_s`.
 * - `degraded` (200): a camera is not running, a config item from the cloud was refused or runs
 *   without some settings, or the cloud refused a heartbeat for the clock — each named, by id.
 * - `ok` otherwise.
 */
import { redactUrl } from '../../shared/log.js';
import { CAMERA_STATES, type EdgeHeartbeatInput } from '../../shared/schemas/edge.js';
import { VERSION } from '../../shared/version.js';
import type { CameraCapture, CaptureState } from '../capture/camera-capture.js';
import type { CloudConfigSync } from '../config/cloud-sync.js';
import { describeProblem, type ConfigProblem } from '../config/remote-items.js';
import type { EdgeCamera, EdgeConfig } from '../config/schema.js';
import type { HeartbeatBody, HeartbeatSender } from '../cloud/heartbeat.js';
import type { Outbox } from '../outbox/outbox.js';

/** What the health readers need of the daemon. */
export interface DaemonView {
  readonly config: EdgeConfig;
  readonly outbox: Outbox | undefined;
  readonly startedAt: number;
  cameraRuns(): Array<{ cfg: EdgeCamera; capture: CameraCapture }>;
  readonly failedCameras: ReadonlyMap<string, { url: string; error: string }>;
  stuckCameras(now?: number): Array<{ camera: string; stuckMs: number }>;
  readonly sync: CloudConfigSync | null;
  readonly heartbeat: HeartbeatSender | null;
  /** The config version in force and when the daemon applied it. */
  readonly configApplied: { version: string | null; at: string | null };
  /** The access lists in force and the last sync error (absent before start). */
  readonly gate?: { readonly lists: { versions(): Array<{ id: string; version: string }>; readonly lastError: string | null } };
}

export type CameraState = (typeof CAMERA_STATES)[number];
export interface CameraHealth {
  id: string;
  state: CameraState;
  fps: number;
  error: string | null;
}

export interface Health {
  ok: boolean;
  status: 'ok' | 'degraded' | 'down';
  problems: string[];
}

const CAPTURE_TO_CAMERA: Record<CaptureState, CameraState> = {
  idle: 'starting',
  starting: 'starting',
  running: 'running',
  backoff: 'reconnecting',
  stopping: 'starting',
  stopped: 'starting',
  failed: 'invalid',
};

const clip = (s: string, n: number) => s.replace(/[\u0000-\u001f\u007f]/g, '?').slice(0, n);

export function configProblems(v: DaemonView): ConfigProblem[] {
  return v.sync?.problems ?? [];
}

/**
 * Every camera the config names, with its state: captured ones as their capture reports
 * (stalled when its loop is wedged), ones that could not start or were refused as `invalid`,
 * disabled ones as `disabled`.
 */
export function cameraStates(v: DaemonView, now = Date.now()): CameraHealth[] {
  const out = new Map<string, CameraHealth>();
  const stuck = new Set(v.stuckCameras(now).map((s) => s.camera));
  for (const r of v.cameraRuns()) {
    const s = r.capture.status();
    const state = stuck.has(r.cfg.id) ? 'stalled' : CAPTURE_TO_CAMERA[s.state];
    out.set(r.cfg.id, { id: r.cfg.id, state, fps: Math.max(0, Math.round(s.fps * 100) / 100), error: state === 'running' || !s.lastError ? null : clip(redactUrl(s.lastError), 1024) });
  }
  for (const [id, f] of v.failedCameras) out.set(id, { id, state: 'invalid', fps: 0, error: clip(f.error, 1024) });
  for (const c of v.config.cameras) if (!c.enabled && !out.has(c.id)) out.set(c.id, { id: c.id, state: 'disabled', fps: 0, error: null });
  for (const p of configProblems(v)) {
    if (p.kind !== 'cameras' || p.dropped !== 'item' || out.has(p.id)) continue;
    // Refused with no version in force: the camera the cloud assigns does not run here.
    if (/^[A-Za-z0-9._-]{1,128}$/.test(p.id)) out.set(p.id, { id: p.id, state: 'invalid', fps: 0, error: clip(p.errors.join('; '), 1024) });
  }
  return [...out.values()];
}

export function daemonHealth(v: DaemonView): Health {
  if (!v.outbox?.db.open) return { ok: false, status: 'down', problems: ['outbox closed'] };
  const stuck = v.stuckCameras();
  if (stuck.length) return { ok: false, status: 'down', problems: stuck.map((s) => `camera ${s.camera}: one frame in analysis for ${Math.round(s.stuckMs / 1000)} s (wedged)`) };
  const problems: string[] = [];
  for (const r of v.cameraRuns()) {
    const s = r.capture.status();
    if (s.state !== 'running') problems.push(`camera ${r.cfg.id}: ${s.state}${s.lastError ? ` (${s.lastError})` : ''}`);
  }
  for (const [id, f] of v.failedCameras) problems.push(`camera ${id}: failed (${f.error})`);
  for (const p of configProblems(v)) problems.push(describeProblem(p));
  if (v.gate?.lists.lastError) problems.push(`access lists: ${v.gate.lists.lastError}`);
  if (v.heartbeat?.clockSkew) problems.push(v.heartbeat.clockSkew);
  return { ok: true, status: problems.length ? 'degraded' : 'ok', problems };
}

/** The config in force as the cloud is told it (EdgeConfigState). */
export function configState(v: DaemonView): { version: string | null; applied_at: string | null; error: string | null; problems: ConfigProblem[] } {
  const s = v.sync?.state();
  return {
    version: v.configApplied.version,
    applied_at: v.configApplied.at,
    error: s?.error ? clip(s.error, 2048) : null,
    problems: (s?.problems ?? []).slice(0, 512).map((p) => ({ ...p, id: clip(p.id, 128), errors: p.errors.slice(0, 32).map((e) => clip(e, 1024)) })),
  };
}

/** The heartbeat body (EdgeHeartbeat without what the sender adds). */
export function heartbeatBody(v: DaemonView): HeartbeatBody {
  const h = daemonHealth(v);
  const depth = v.outbox?.db.open ? v.outbox.depth() : {};
  const exporters = Object.entries(depth).map(([id, d]) => ({ id: clip(id, 128), pending: d.pending, dead_letters: d.dead }));
  const body: Omit<EdgeHeartbeatInput, 'instance_id' | 'sent_at' | 'interval_s'> = {
    version: VERSION,
    uptime_s: Math.round((Date.now() - v.startedAt) / 1000),
    health: h.status === 'ok' ? 'ok' : 'degraded',
    problems: h.problems.slice(0, 64).map((p) => clip(p, 1024)),
    cameras: cameraStates(v).slice(0, 256),
    outbox: {
      pending: exporters.reduce((n, e) => n + e.pending, 0),
      dead_letters: exporters.reduce((n, e) => n + e.dead_letters, 0),
      exporters: exporters.slice(0, 64),
    },
    config: configState(v),
    lists: (v.gate?.lists.versions() ?? []).slice(0, 1024),
  };
  return body;
}
