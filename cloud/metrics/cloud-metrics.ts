/**
 * The cloud's Prometheus metrics (`GET /metrics`, prom-client).
 *
 * - One registry per cloud instance, never prom-client's global default: tests start many
 *   clouds in one process, and each must count only its own.
 * - Edge metrics: `anpr_edges{status}` (gauge, read from the status tracker at scrape time),
 *   `anpr_edge_status_changes_total{status}` (each announced change, the timer's turns to
 *   offline included), `anpr_edge_heartbeats_total{result}` (`accepted`, or the refusal:
 *   `forbidden`, `unknown_edge`, `invalid`, `clock_skew`, `edge_id_in_use`).
 * - Process metrics (`anpr_cloud_process_cpu_seconds_total`, heap, event loop lag…) are
 *   registered at the first scrape, so a cloud nobody scrapes pays nothing for them (the
 *   event-loop monitor samples every 10 ms once enabled, and cannot be turned off again).
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { EDGE_STATUSES, type EdgeStatusName } from '../../shared/schemas/edge.js';

export const HEARTBEAT_RESULTS = ['accepted', 'forbidden', 'unknown_edge', 'invalid', 'clock_skew', 'edge_id_in_use'] as const;
export type HeartbeatResult = (typeof HEARTBEAT_RESULTS)[number];

export class CloudMetrics {
  readonly registry = new Registry();
  private readonly statusChanges: Counter<'status'>;
  private readonly heartbeats: Counter<'result'>;
  private defaultsOn = false;
  private readonly tokenHash: Buffer | null;

  /**
   * `edgeCounts` is asked at each scrape for the number of edges in each status.
   * `token`: a bearer token that may read /metrics without a user (`ANPR_METRICS_TOKEN`).
   */
  constructor(edgeCounts: () => Promise<Record<EdgeStatusName, number>>, token?: string) {
    this.tokenHash = token ? sha256(token) : null;
    this.statusChanges = new Counter({
      name: 'anpr_edge_status_changes_total',
      help: 'Changes of edge status announced on /events/stream, by the status changed to',
      labelNames: ['status'],
      registers: [this.registry],
    });
    this.heartbeats = new Counter({
      name: 'anpr_edge_heartbeats_total',
      help: 'Edge heartbeats, by result: accepted, or why refused',
      labelNames: ['result'],
      registers: [this.registry],
    });
    new Gauge({
      name: 'anpr_edges',
      help: 'Registered edges, by status',
      labelNames: ['status'],
      registers: [this.registry],
      async collect() {
        const n = await edgeCounts();
        for (const s of EDGE_STATUSES) this.set({ status: s }, n[s]);
      },
    });
    // Every label present from the start: a rate() over a series that appears late misses its first step.
    for (const s of EDGE_STATUSES) this.statusChanges.inc({ status: s }, 0);
    for (const r of HEARTBEAT_RESULTS) this.heartbeats.inc({ result: r }, 0);
  }

  statusChanged(status: EdgeStatusName): void {
    this.statusChanges.inc({ status });
  }

  heartbeat(result: HeartbeatResult): void {
    this.heartbeats.inc({ result });
  }

  /** Whether `bearer` is the metrics token (compared in constant time). */
  tokenMatches(bearer: string): boolean {
    return this.tokenHash !== null && timingSafeEqual(sha256(bearer), this.tokenHash);
  }

  /** The exposition text and its content type. */
  async scrape(): Promise<{ body: string; contentType: string }> {
    if (!this.defaultsOn) {
      this.defaultsOn = true;
      collectDefaultMetrics({ register: this.registry, prefix: 'anpr_cloud_' });
    }
    return { body: await this.registry.metrics(), contentType: this.registry.contentType };
  }
}

const sha256 = (s: string) => createHash('sha256').update(s).digest();
