/**
 * Fan-out of accepted events to `/events/stream` subscribers. A message is serialised once
 * and sent to every subscriber whose camera/zone filter matches. A subscriber that cannot
 * keep up (more than `maxBufferedBytes` waiting in its socket) is disconnected with 1013
 * rather than allowed to grow the server's memory without bound.
 *
 * A stream lives no longer than its credentials: every `recheckMs` (the API-key cache time)
 * each subscriber's credentials are checked again, and a subscriber whose token expired,
 * whose key was revoked, whose user was disabled or got a new password, or whose session
 * signed out is closed with CREDENTIALS_CLOSE_CODE (4401) and the reason. Changes made
 * through this service call `recheck()` at once; changes made by another process (`anpr
 * apikey revoke`) are seen within `recheckMs`.
 */
import type { Logger } from '../../shared/log.js';
import { CACHE_MS } from '../auth/api-keys.js';

/** WebSocket close code: the credentials ended; get new ones (sign in or refresh), then reconnect. */
export const CREDENTIALS_CLOSE_CODE = 4401;

/** An accepted event as the API shows it: what is sent, and what subscribers' filters read. */
export interface StreamEvent {
  event_id: string;
  camera_id: string | null;
  zone_id: string | null;
  metadata?: Record<string, unknown>;
}

export interface Subscriber {
  cameraId?: string;
  zoneId?: string;
  /**
   * Set for an edge's API key: it is sent only that edge's events and status (an event's edge is
   * its `metadata.edge_worker_id`, set by the cloud from the ingesting key).
   */
  edgeId?: string;
  /** Bytes queued in the socket, not yet sent. */
  buffered(): number;
  send(data: string): void;
  close(code: number, reason: string): void;
  /** Who, for logs and per-key connection limits. */
  who: string;
  /** Why the subscriber's credentials no longer hold, or null while they do. */
  revoked(): Promise<string | null>;
}

export class StreamHub {
  private readonly subs = new Set<Subscriber>();
  private readonly maxBufferedBytes: number;
  private readonly log: Logger;
  private readonly recheckMs: number;
  private timer: NodeJS.Timeout | undefined;
  dropped = 0;

  constructor(log: Logger, maxBufferedBytes = 1 << 20, recheckMs = CACHE_MS) {
    this.log = log;
    this.maxBufferedBytes = maxBufferedBytes;
    this.recheckMs = recheckMs;
  }

  add(s: Subscriber): void {
    this.subs.add(s);
    // The timer runs only while someone is subscribed.
    this.timer ??= setInterval(() => void this.recheck(), this.recheckMs).unref();
  }

  remove(s: Subscriber): void {
    this.subs.delete(s);
    if (this.subs.size === 0) this.stopTimer();
  }

  private stopTimer(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Closes (4401) every subscriber whose credentials no longer hold; returns how many. */
  async recheck(): Promise<number> {
    let n = 0;
    const subs = [...this.subs];
    const verdicts = await Promise.all(
      subs.map((s) =>
        s.revoked().catch((e: unknown) => {
          // The database is busy or gone: keep the stream; the next round asks again.
          this.log.warn({ who: s.who, err: e }, 'stream credential check failed');
          return null;
        }),
      ),
    );
    for (const [i, s] of subs.entries()) {
      const why = verdicts[i]!;
      if (why === null || !this.subs.has(s)) continue;
      n++;
      this.log.info({ who: s.who, reason: why }, 'stream closed: credentials ended');
      this.subs.delete(s);
      s.close(CREDENTIALS_CLOSE_CODE, why);
    }
    if (this.subs.size === 0) this.stopTimer();
    return n;
  }

  count(who?: string): number {
    if (who === undefined) return this.subs.size;
    let n = 0;
    for (const s of this.subs) if (s.who === who) n++;
    return n;
  }

  publish(event: StreamEvent): void {
    if (this.subs.size === 0) return;
    const edge = event.metadata?.edge_worker_id;
    this.send({ type: 'event', data: event }, (s) => {
      if (s.cameraId !== undefined && s.cameraId !== event.camera_id) return false;
      if (s.zoneId !== undefined && s.zoneId !== event.zone_id) return false;
      return s.edgeId === undefined || s.edgeId === edge;
    });
  }

  /**
   * A message that is not an event (e.g. `edge_status`), to every subscriber without a camera or
   * zone filter; `edgeId` set: only to users and to that edge's own keys.
   */
  broadcast(message: { type: string; data: unknown }, edgeId?: string): void {
    if (this.subs.size === 0) return;
    this.send(message, (s) => s.cameraId === undefined && s.zoneId === undefined && (s.edgeId === undefined || s.edgeId === edgeId));
  }

  private send(message: { type: string; data: unknown }, wants: (s: Subscriber) => boolean): void {
    const msg = JSON.stringify(message);
    for (const s of this.subs) {
      if (!wants(s)) continue;
      if (s.buffered() > this.maxBufferedBytes) {
        this.dropped++;
        this.log.warn({ who: s.who }, 'stream subscriber too slow, disconnecting');
        this.subs.delete(s);
        s.close(1013, 'subscriber too slow');
        continue;
      }
      s.send(msg);
    }
  }

  closeAll(): void {
    for (const s of this.subs) s.close(1001, 'server shutting down');
    this.subs.clear();
    this.stopTimer();
  }
}
