/**
 * Events to the subscribers of every replica, through PostgreSQL's LISTEN/NOTIFY: no component
 * beside the database.
 *
 * Guarantees:
 * - Every replica, the announcing one included, hands each announced event to its own hub
 *   (which applies each subscriber's camera, zone and edge filter), in the order it was
 *   announced on that replica.
 * - Announcing never waits on the database and never fails the ingest: events are queued and
 *   sent together after the current turn of the event loop (one query of `pg_notify` calls).
 *   A failed send is logged and counted (`dropped`); the events are stored all the same, only
 *   their live announcement is lost.
 * - A payload stays under NOTIFY's 8000-byte limit: events are packed into JSON arrays of at
 *   most MAX_PAYLOAD_BYTES, and an event too large on its own is sent by id and read back
 *   from the database by each replica that has subscribers.
 * - The listening connection is one of the pool's, held; when it is lost it is opened again
 *   with the pool's backoff (250 ms doubling to 10 s, jittered). Events announced while a
 *   replica is not listening do not reach its subscribers (they resume with GET /events).
 */
import type pg from 'pg';
import type { Logger } from '../../shared/log.js';
import { retryDelay, DEFAULT_RETRY } from '../db/pg/connect.js';
import type { StreamBus } from './bus.js';
import type { StreamEvent, StreamHub } from './hub.js';

export const CHANNEL = 'anpr_stream';
/** NOTIFY refuses payloads of 8000 bytes and more; a margin for the array's brackets. */
export const MAX_PAYLOAD_BYTES = 7900;
/** Payloads per query (each a `pg_notify` call). */
const PAYLOADS_PER_QUERY = 32;

/** One announced event on the wire: the event itself, or its id when it is too large. */
type Item = { e: StreamEvent } | { id: string };

export interface PgStreamBusOptions {
  pool: pg.Pool;
  hub: StreamHub;
  /** The API's form of a stored event, for events sent by id (undefined: gone since). */
  fetch(eventId: string): Promise<StreamEvent | undefined>;
  log: Logger;
}

export class PgStreamBus implements StreamBus {
  private readonly o: PgStreamBusOptions;
  private queue: string[] = [];
  private flushing: Promise<void> | undefined;
  private listener: pg.PoolClient | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private attempts = 0;
  private closed = false;
  /** Resolved by the next successful LISTEN (tests wait on it). */
  private listeningNow!: Promise<void>;
  private markListening!: () => void;
  /** Deliveries on this replica, in arrival order. */
  private delivering: Promise<void> = Promise.resolve();
  /** Events whose announcement could not be sent. */
  dropped = 0;

  private constructor(o: PgStreamBusOptions) {
    this.o = o;
    this.resetListening();
  }

  /** Starts listening; resolves once the first LISTEN is in place (or keeps trying in the background). */
  static async open(o: PgStreamBusOptions): Promise<PgStreamBus> {
    const bus = new PgStreamBus(o);
    await bus.listen();
    return bus;
  }

  /** Resolves when this replica is listening. */
  listening(): Promise<void> {
    return this.listeningNow;
  }

  announce(make: () => StreamEvent): void {
    if (this.closed) return;
    const event = make();
    const inline = JSON.stringify({ e: event } satisfies Item);
    this.queue.push(Buffer.byteLength(inline) + 2 <= MAX_PAYLOAD_BYTES ? inline : JSON.stringify({ id: event.event_id } satisfies Item));
    this.flushing ??= new Promise<void>((r) => setImmediate(r)).then(() => this.flush());
  }

  private async flush(): Promise<void> {
    while (this.queue.length) {
      const items = this.queue;
      this.queue = [];
      const payloads = pack(items);
      for (let i = 0; i < payloads.length; i += PAYLOADS_PER_QUERY) {
        const batch = payloads.slice(i, i + PAYLOADS_PER_QUERY);
        const calls = batch.map((_, j) => `pg_notify('${CHANNEL}', $${j + 1})`).join(', ');
        try {
          await this.o.pool.query(`SELECT ${calls}`, batch);
        } catch (e) {
          const lost = batch.reduce((n, p) => n + (JSON.parse(p) as unknown[]).length, 0);
          this.dropped += lost;
          this.o.log.warn({ err: e, events: lost }, 'could not announce events to the other replicas; they are stored');
        }
      }
    }
    this.flushing = undefined;
  }

  private resetListening(): void {
    this.listeningNow = new Promise<void>((r) => (this.markListening = r));
  }

  private async listen(): Promise<void> {
    if (this.closed) return;
    let client: pg.PoolClient | undefined;
    try {
      client = await this.o.pool.connect();
      client.on('error', (e) => this.lost(client!, e));
      client.on('notification', (m) => {
        if (m.channel === CHANNEL && m.payload) this.receive(m.payload);
      });
      await client.query(`LISTEN ${CHANNEL}`);
      this.listener = client;
      this.attempts = 0;
      this.markListening();
    } catch (e) {
      if (client) this.lost(client, e);
      else this.retry(e);
    }
  }

  private lost(client: pg.PoolClient, e: unknown): void {
    if (this.listener === client) this.listener = undefined;
    client.removeAllListeners('notification');
    // Released with the error: the pool discards the connection instead of reusing it.
    try {
      client.release(e instanceof Error ? e : new Error(String(e)));
    } catch {
      // Released already (an error after a failed LISTEN).
    }
    this.retry(e);
  }

  private retry(e: unknown): void {
    if (this.closed || this.reconnectTimer) return;
    this.resetListening();
    const wait = retryDelay(this.attempts++, DEFAULT_RETRY);
    this.o.log.warn({ err: e, retry_in_ms: wait }, 'stream: lost the database notifications; listening again');
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.listen();
    }, wait).unref();
  }

  private receive(payload: string): void {
    let items: Item[];
    try {
      items = JSON.parse(payload) as Item[];
    } catch {
      this.o.log.warn({ bytes: payload.length }, 'stream: a notification that is not ours, ignored');
      return;
    }
    this.delivering = this.delivering.then(async () => {
      for (const item of items) {
        if (this.o.hub.count() === 0) return;
        if ('e' in item) this.o.hub.publish(item.e);
        else {
          const event = await this.o.fetch(item.id).catch((e: unknown) => {
            this.o.log.warn({ err: e, event_id: item.id }, 'stream: could not read an announced event');
            return undefined;
          });
          if (event) this.o.hub.publish(event);
        }
      }
    });
  }

  async close(): Promise<void> {
    await this.flushing;
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    const client = this.listener;
    this.listener = undefined;
    if (client) {
      await client.query(`UNLISTEN ${CHANNEL}`).catch(() => {});
      client.removeAllListeners('notification');
      client.release();
    }
    await this.delivering;
  }
}

/** JSON arrays of the items, each at most MAX_PAYLOAD_BYTES (every item fits alone). */
export function pack(items: string[]): string[] {
  const out: string[] = [];
  let cur: string[] = [];
  let bytes = 2;
  for (const item of items) {
    const n = Buffer.byteLength(item) + (cur.length ? 1 : 0);
    if (cur.length && bytes + n > MAX_PAYLOAD_BYTES) {
      out.push(`[${cur.join(',')}]`);
      cur = [];
      bytes = 2;
    }
    bytes += Buffer.byteLength(item) + (cur.length ? 1 : 0);
    cur.push(item);
  }
  if (cur.length) out.push(`[${cur.join(',')}]`);
  return out;
}
