/**
 * How an accepted event reaches `/events/stream` subscribers. With one process (SQLite) the
 * ingest hands it straight to this process's hub; with replicas on one PostgreSQL database
 * it goes through the database (pg-stream-bus.ts) to the hub of every replica, this one
 * included.
 */
import type { StreamEvent, StreamHub } from './hub.js';

export interface StreamBus {
  /**
   * Announces an event that was just stored (after its 202 is certain). `make` builds the
   * API's form of it; it is called only when someone may be listening.
   */
  announce(make: () => StreamEvent): void;
  /** Sends what is queued and stops listening. */
  close(): Promise<void>;
}

/** One process: the event goes to this process's subscribers only. */
export class LocalStreamBus implements StreamBus {
  constructor(private readonly hub: StreamHub) {}

  announce(make: () => StreamEvent): void {
    if (this.hub.count() > 0) this.hub.publish(make());
  }

  async close(): Promise<void> {}
}
