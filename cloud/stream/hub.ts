/**
 * Fan-out of accepted events to `/events/stream` subscribers. A message is serialised once
 * and sent to every subscriber whose camera/zone filter matches. A subscriber that cannot
 * keep up (more than `maxBufferedBytes` waiting in its socket) is disconnected with 1013
 * rather than allowed to grow the server's memory without bound.
 */
import type { Logger } from '../../shared/log.js';

export interface Subscriber {
  cameraId?: string;
  zoneId?: string;
  /** Bytes queued in the socket, not yet sent. */
  buffered(): number;
  send(data: string): void;
  close(code: number, reason: string): void;
  /** Who, for logs and per-key connection limits. */
  who: string;
}

export class StreamHub {
  private readonly subs = new Set<Subscriber>();
  private readonly maxBufferedBytes: number;
  private readonly log: Logger;
  dropped = 0;

  constructor(log: Logger, maxBufferedBytes = 1 << 20) {
    this.log = log;
    this.maxBufferedBytes = maxBufferedBytes;
  }

  add(s: Subscriber): void {
    this.subs.add(s);
  }

  remove(s: Subscriber): void {
    this.subs.delete(s);
  }

  count(who?: string): number {
    if (who === undefined) return this.subs.size;
    let n = 0;
    for (const s of this.subs) if (s.who === who) n++;
    return n;
  }

  publish(event: { camera_id: string | null; zone_id: string | null }): void {
    if (this.subs.size === 0) return;
    const msg = JSON.stringify({ type: 'event', data: event });
    for (const s of this.subs) {
      if (s.cameraId !== undefined && s.cameraId !== event.camera_id) continue;
      if (s.zoneId !== undefined && s.zoneId !== event.zone_id) continue;
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
  }
}
