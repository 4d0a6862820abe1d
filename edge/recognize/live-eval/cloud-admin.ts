/**
 * What the live evaluation asks of the cloud, over its HTTP API as an admin would: sign in,
 * create the camera, list the camera's events.
 */
import { AppError } from '../../../shared/errors.js';

async function call<T>(url: string, init: RequestInit & { token?: string; json?: unknown }, what: string): Promise<T> {
  const headers: Record<string, string> = {};
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  if (init.json !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, { ...init, headers, body: init.json === undefined ? undefined : JSON.stringify(init.json) });
  const text = await res.text();
  if (!res.ok) throw new AppError('SERVICE_UNAVAILABLE', `${what}: the cloud answered ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

/** POST /auth/token: an admin's access token. */
export async function signIn(cloudUrl: string, username: string, password: string): Promise<string> {
  const r = await call<{ access_token: string }>(`${cloudUrl}/auth/token`, { method: 'POST', json: { username, password } }, 'signing in');
  return r.access_token;
}

export interface CameraSpec {
  id: string;
  name: string;
  rtspUrl: string;
  fps: number;
  width: number;
  height: number;
}

/** POST /config/cameras: the camera the edge will pick up with its config sync. */
export async function createCamera(cloudUrl: string, token: string, c: CameraSpec): Promise<string> {
  const r = await call<{ id: string }>(
    `${cloudUrl}/config/cameras`,
    { method: 'POST', token, json: { id: c.id, name: c.name, rtsp_url: c.rtspUrl, fps: c.fps, resolution: { width: c.width, height: c.height } } },
    'creating the camera',
  );
  return r.id;
}

export interface CloudEvent {
  event_id: string;
  plate_text: string;
  confidence: number | null;
  camera_id: string | null;
  metadata: Record<string, unknown>;
  created_at: string;
}

/** GET /events: every event of one camera, oldest first. */
export async function listEvents(cloudUrl: string, token: string, cameraId: string): Promise<CloudEvent[]> {
  const out: CloudEvent[] = [];
  for (;;) {
    const q = new URLSearchParams({ camera_id: cameraId, sort_order: 'asc', limit: '1000', skip: String(out.length) });
    const page = await call<{ items: CloudEvent[]; total: number }>(`${cloudUrl}/events?${q}`, { token }, 'listing events');
    out.push(...page.items);
    if (page.items.length === 0 || out.length >= page.total) return out;
  }
}
