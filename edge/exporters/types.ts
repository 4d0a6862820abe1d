/**
 * The exporter contract: a few methods, an inert constructor. The delivery machinery
 * (dispatcher.ts) owns retries, backoff, ordering and dead letters; an exporter only says what
 * one attempt did.
 */
import type { OutboxEvent } from '../outbox/outbox.js';

export interface EventImages {
  frame: Buffer | null;
  crop: Buffer | null;
}

export type DeliveryResult =
  | { status: 'delivered'; detail?: string }
  /** Transient: try again later (at least `retryAfterMs` when the peer said so). */
  | { status: 'retry'; error: string; retryAfterMs?: number }
  /** Permanent for this event: dead-letter it, keep going with the next one. */
  | { status: 'dead'; error: string };

export interface DeliverOptions {
  /**
   * Aborted when the dispatcher gives up on this attempt (no acknowledgement in time): the
   * exporter must let go of it (close the request) and resolve `retry`, so an abandoned attempt
   * never stays open beside its retry.
   */
  signal?: AbortSignal;
}

export interface Exporter {
  readonly name: string;
  start(): Promise<void>;
  deliver(event: OutboxEvent, images: EventImages, opts?: DeliverOptions): Promise<DeliveryResult>;
  stop(): Promise<void>;
}

/** Parses an HTTP Retry-After (seconds or an HTTP date) into ms, or undefined. */
export function parseRetryAfter(v: string | string[] | undefined, now = Date.now()): number | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  if (!s) return undefined;
  if (/^\d+(\.\d+)?$/.test(s.trim())) return Math.round(Number(s) * 1000);
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}
