/**
 * Delivery machinery shared by every exporter: one worker per exporter drains the outbox.
 *
 * - Order per camera: at most one event per camera in flight; the next is taken only after the
 *   head is delivered or dead-lettered. Cameras are independent lanes.
 * - Transient failures back off exponentially with full jitter (uniform in [0, min(max, base·2ⁿ)]),
 *   and never sooner than a peer's Retry-After.
 * - Permanent failures are dead-lettered per event and never block the lane.
 * - A thrown exception counts as transient (a bug must not lose events).
 * - An attempt with no answer within `attemptTimeoutMs` is aborted (its AbortSignal fires: the
 *   exporter closes the request) and retried; it never stays open beside its retry.
 */
import type { Logger } from '../../shared/log.js';
import { silentLogger } from '../../shared/log.js';
import { backoffDelay, type BackoffOptions } from '../capture/backoff.js';
import type { Outbox, PendingDelivery } from '../outbox/outbox.js';
import type { Metrics } from '../daemon/metrics.js';
import type { DeliveryResult, Exporter } from './types.js';

export interface DispatcherOptions {
  backoff?: BackoffOptions;
  /** Longest sleep between outbox scans when nothing is due (new events wake it anyway). */
  pollMs?: number;
  /** An attempt taking longer than this is abandoned and retried. */
  attemptTimeoutMs?: number;
  logger?: Logger;
  metrics?: Metrics;
}

export class DeliveryWorker {
  private running = false;
  private inFlight = new Map<string, Promise<void>>();
  private wakeUp: (() => void) | null = null;
  private loop: Promise<void> | null = null;
  private readonly log: Logger;
  private readonly backoff: BackoffOptions;
  private readonly pollMs: number;
  private readonly attemptTimeoutMs: number;
  delivered = 0;
  failures = 0;
  lastError: string | null = null;

  constructor(
    private readonly outbox: Outbox,
    readonly exporter: Exporter,
    private readonly o: DispatcherOptions = {},
  ) {
    this.log = (o.logger ?? silentLogger).child({ exporter: exporter.name });
    this.backoff = { jitter: 'full', ...(o.backoff ?? { initialMs: 500, maxMs: 60_000 }) };
    this.pollMs = o.pollMs ?? 1_000;
    this.attemptTimeoutMs = o.attemptTimeoutMs ?? 30_000;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** New work may be due (an event was added, a retry was requested). */
  wake(): void {
    const w = this.wakeUp;
    this.wakeUp = null;
    w?.();
  }

  /** Stops taking new work and waits for attempts in flight. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
    await Promise.allSettled([...this.inFlight.values()]);
  }

  private async run(): Promise<void> {
    while (this.running) {
      let heads: PendingDelivery[] = [];
      try {
        heads = this.outbox.heads(this.exporter.name);
      } catch (e) {
        this.log.error({ err: e }, 'outbox read failed');
      }
      const now = Date.now();
      let nextDue = now + this.pollMs;
      for (const h of heads) {
        if (this.inFlight.has(h.cameraId)) continue;
        if (h.nextAttemptAt > now) {
          nextDue = Math.min(nextDue, h.nextAttemptAt);
          continue;
        }
        const p = this.attempt(h).finally(() => {
          this.inFlight.delete(h.cameraId);
          this.wake();
        });
        this.inFlight.set(h.cameraId, p);
      }
      if (!this.running) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(5, nextDue - Date.now()));
        this.wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  private async attempt(h: PendingDelivery): Promise<void> {
    const started = Date.now();
    const name = this.exporter.name;
    let result: DeliveryResult;
    try {
      const images = { frame: this.outbox.readImage(h.framePath), crop: this.outbox.readImage(h.cropPath) };
      const abort = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<DeliveryResult>((r) => {
        timer = setTimeout(() => {
          const error = `no acknowledgement within ${this.attemptTimeoutMs} ms`;
          abort.abort(new Error(error));
          // Also resolved here: an exporter that ignores the signal cannot hold the lane.
          r({ status: 'retry', error });
        }, this.attemptTimeoutMs);
      });
      try {
        result = await Promise.race([this.exporter.deliver(h, images, { signal: abort.signal }), timeout]);
      } finally {
        clearTimeout(timer);
      }
    } catch (e) {
      result = { status: 'retry', error: (e as Error).message ?? String(e) };
    }
    const m = this.o.metrics;
    m?.inc('anpr_delivery_attempts_total', 'Delivery attempts per exporter', { exporter: name });
    m?.observe('anpr_delivery_latency_ms', 'Time of one delivery attempt, ms', { exporter: name }, Date.now() - started);
    try {
      if (result.status === 'delivered') {
        this.outbox.markDelivered(name, h.seq);
        this.delivered++;
        m?.inc('anpr_delivered_total', 'Events delivered per exporter', { exporter: name });
        m?.observe('anpr_end_to_end_ms', 'From event commit to acknowledged delivery, ms', { exporter: name }, Date.now() - h.createdAt, [50, 100, 250, 500, 1000, 2500, 5000, 10000, 60000, 600000]);
      } else if (result.status === 'dead') {
        this.outbox.markDead(name, h.seq, result.error);
        this.failures++;
        this.lastError = result.error;
        m?.inc('anpr_delivery_failures_total', 'Failed delivery attempts per exporter', { exporter: name, kind: 'dead' });
        this.log.warn({ eventId: h.eventId, error: result.error }, 'event dead-lettered');
      } else {
        const delay = Math.max(result.retryAfterMs ?? 0, backoffDelay(h.attempts, this.backoff));
        this.outbox.markFailed(name, h.seq, result.error, Date.now() + delay);
        this.failures++;
        this.lastError = result.error;
        m?.inc('anpr_delivery_failures_total', 'Failed delivery attempts per exporter', { exporter: name, kind: 'retry' });
        this.log.warn({ eventId: h.eventId, attempts: h.attempts + 1, retryInMs: delay, error: result.error }, 'delivery failed; will retry');
      }
    } catch (e) {
      // The outbox is closing (shutdown): the row stays pending and is retried next start.
      this.log.error({ err: e }, 'could not record delivery result');
    }
  }
}
