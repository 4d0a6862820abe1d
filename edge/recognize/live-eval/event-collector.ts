/**
 * Events as they reach a subscriber of the cloud's WebSocket `/events/stream`, stamped with the
 * time this client received each one; `complete` adds what only `GET /events` has (an event
 * the stream missed is stamped with the time the cloud stored it).
 */
import { AppError } from '../../../shared/errors.js';
import { listEvents, type CloudEvent } from './cloud-admin.js';
import type { Arrival } from './score.js';

export interface EventCollector {
  readonly arrivals: Arrival[];
  /** Adds the camera's events that the stream did not deliver (GET /events). */
  complete(): Promise<void>;
  close(): void;
}

function toArrival(d: CloudEvent, arrivedAtMs: number, via: Arrival['via']): Arrival {
  const captured = d.metadata?.captured_at_ms;
  return {
    eventId: String(d.event_id),
    plate: String(d.plate_text),
    arrivedAtMs,
    capturedAtMs: typeof captured === 'number' ? captured : null,
    confidence: typeof d.confidence === 'number' ? d.confidence : null,
    via,
  };
}

/** Subscribes to the camera's events; resolves once the subscription is open. */
export async function collectEvents(o: { cloudUrl: string; token: string; cameraId: string; now?: () => number }): Promise<EventCollector> {
  const now = o.now ?? Date.now;
  const { WebSocket } = await import('ws');
  const q = new URLSearchParams({ token: o.token, camera_id: o.cameraId });
  const ws = new WebSocket(`${o.cloudUrl.replace(/^http/, 'ws')}/events/stream?${q}`);
  const arrivals: Arrival[] = [];
  const seen = new Set<string>();
  ws.on('message', (raw) => {
    const at = now();
    let msg: { type?: string; data?: CloudEvent };
    try {
      msg = JSON.parse(String(raw));
    } catch {
      return;
    }
    if (msg.type !== 'event' || !msg.data || seen.has(msg.data.event_id)) return;
    seen.add(msg.data.event_id);
    arrivals.push(toArrival(msg.data, at, 'stream'));
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new AppError('SERVICE_UNAVAILABLE', `the cloud refused the event stream (${res.statusCode})`)));
    ws.once('error', (e) => reject(new AppError('SERVICE_UNAVAILABLE', `cannot subscribe to the event stream: ${e.message}`)));
  });
  ws.on('error', () => {});
  return {
    arrivals,
    async complete() {
      for (const e of await listEvents(o.cloudUrl, o.token, o.cameraId)) {
        if (seen.has(e.event_id)) continue;
        seen.add(e.event_id);
        arrivals.push(toArrival(e, Date.parse(e.created_at), 'rest'));
      }
    },
    close: () => ws.terminate(),
  };
}
