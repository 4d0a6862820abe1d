/**
 * The edge's heartbeat: every `cloud.heartbeat_s`, `POST /edges/{edge_id}/heartbeat` with an
 * EdgeHeartbeat body (shared/schemas/edge.ts), X-API-Key and X-Edge-Instance.
 *
 * Guarantees:
 * - Never throws and never stops the daemon for a network fault: a failed post is logged
 *   (once per distinct error, at most once a minute) and the next tick tries again; the edge
 *   runs offline as it always did.
 * - 409 EDGE_ID_IN_USE (another box runs this edge id) is fatal: `onConflict` is called once
 *   with the cloud's words; the daemon stops capturing and exits 78 (EX_CONFIG), which systemd
 *   does not restart (RestartPreventExitStatus=78). The outbox keeps its events on disk.
 * - 400 CLOCK_SKEW: `clockSkew` holds "clock off by N s: fix NTP" (healthz says degraded),
 *   logged once, until a heartbeat is accepted again.
 */
import { Agent, request } from 'undici';
import type { Logger } from '../../shared/log.js';
import { redactUrl, silentLogger } from '../../shared/log.js';
import type { EdgeHeartbeatInput } from '../../shared/schemas/edge.js';
import { cloudHeaders } from '../config/cloud-sync.js';

/** What the daemon reports; the sender adds instance_id, sent_at and interval_s. */
export type HeartbeatBody = Omit<EdgeHeartbeatInput, 'instance_id' | 'sent_at' | 'interval_s'>;

export type HeartbeatResult = 'ok' | 'conflict' | 'clock_skew' | 'refused' | 'no_route' | 'failed';

export interface HeartbeatOptions {
  url: string;
  apiKey: string;
  edgeId: string;
  instanceId: string;
  intervalS: number;
  timeoutMs?: number;
  collect: () => HeartbeatBody;
  /** 409 EDGE_ID_IN_USE: called once with the message to log. */
  onConflict: (message: string) => void;
  onResult?: (result: HeartbeatResult) => void;
  /** An accepted heartbeat's answer: the config version the cloud serves this edge now. */
  onConfigVersion?: (version: string) => void;
  logger?: Logger;
}

/**
 * Heartbeats keep one connection open between beats (the default agent drops an idle one after
 * 4 s, so a 5 s heartbeat paid a TCP setup each time, at both ends).
 */
const keepAlive = new Agent({ keepAliveTimeout: 60_000, keepAliveMaxTimeout: 600_000, connections: 2 });

/** A failure is logged again after this long even when it has not changed. */
const RELOG_MS = 60_000;

export class HeartbeatSender {
  private readonly log: Logger;
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<HeartbeatResult> | null = null;
  private lastLogged: { error: string; at: number } | null = null;
  private stopped = false;
  /** Set on 400 CLOCK_SKEW until a heartbeat is accepted: "clock off by N s: fix NTP". */
  clockSkew: string | null = null;
  /** Set once on 409 EDGE_ID_IN_USE (the cloud's words). */
  conflict: string | null = null;
  lastOkAt: number | null = null;
  lastError: string | null = null;
  sent = 0;
  failed = 0;

  constructor(private readonly o: HeartbeatOptions) {
    this.log = (o.logger ?? silentLogger).child({ component: 'heartbeat' });
  }

  /** Heartbeats every `intervalS` from now (the first one is the caller's: `beat()`). */
  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => void this.beat(), this.o.intervalS * 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.inFlight;
  }

  /** One heartbeat (skipped while one is in flight). Never throws. */
  beat(timeoutMs = this.o.timeoutMs ?? 15_000): Promise<HeartbeatResult> {
    if (this.inFlight) return this.inFlight;
    this.inFlight = this.post(timeoutMs).finally(() => (this.inFlight = null));
    return this.inFlight;
  }

  private async post(timeoutMs: number): Promise<HeartbeatResult> {
    if (this.conflict) return 'conflict';
    const result = await this.send(timeoutMs);
    this.o.onResult?.(result);
    return result;
  }

  private async send(timeoutMs: number): Promise<HeartbeatResult> {
    let body: string;
    try {
      body = JSON.stringify({ ...this.o.collect(), instance_id: this.o.instanceId, sent_at: new Date().toISOString(), interval_s: this.o.intervalS });
    } catch (e) {
      return this.failure('failed', `building the heartbeat failed: ${(e as Error).message}`);
    }
    const url = new URL(`edges/${encodeURIComponent(this.o.edgeId)}/heartbeat`, this.o.url.endsWith('/') ? this.o.url : this.o.url + '/');
    let status: number;
    let text: string;
    let date: string | undefined;
    try {
      const res = await request(url, {
        method: 'POST',
        headers: { ...cloudHeaders(this.o.apiKey, this.o.instanceId), 'content-type': 'application/json' },
        body,
        dispatcher: keepAlive,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      status = res.statusCode;
      text = await res.body.text();
      date = typeof res.headers.date === 'string' ? res.headers.date : undefined;
    } catch (e) {
      return this.failure('failed', redactUrl(`heartbeat not delivered: ${(e as Error).message}`));
    }
    this.sent++;
    let code: string | undefined;
    let detail = text.slice(0, 500);
    try {
      const j = JSON.parse(text) as { error_code?: string; detail?: string; config?: { current_version?: unknown } };
      code = j.error_code;
      if (status >= 200 && status < 300 && typeof j.config?.current_version === 'string') this.o.onConfigVersion?.(j.config.current_version);
      if (typeof j.detail === 'string') detail = j.detail.slice(0, 500);
    } catch {
      /* not JSON: its text is the detail */
    }
    if (status >= 200 && status < 300) {
      if (this.clockSkew) this.log.info('clock skew fixed: heartbeats accepted again');
      if (this.lastError) this.log.info('heartbeats accepted again');
      this.clockSkew = null;
      this.lastError = null;
      this.lastLogged = null;
      this.lastOkAt = Date.now();
      return 'ok';
    }
    if (status === 409 && code === 'EDGE_ID_IN_USE') {
      this.conflict = detail || `another box runs edge id ${this.o.edgeId}`;
      this.lastError = this.conflict;
      this.failed++;
      this.o.onConflict(this.conflict);
      return 'conflict';
    }
    if (status === 400 && code === 'CLOCK_SKEW') {
      const cloudMs = date ? Date.parse(date) : NaN;
      const skew = Number.isFinite(cloudMs) ? Math.round((Date.now() - cloudMs) / 1000) : null;
      const msg = skew !== null ? `clock off by ${skew} s: fix NTP` : `clock off: fix NTP (${detail})`;
      if (this.clockSkew === null) this.log.error({ cloud: detail }, `heartbeat refused: ${msg}`);
      this.clockSkew = msg;
      this.lastError = msg;
      this.failed++;
      return 'clock_skew';
    }
    if (status === 404) return this.failure('no_route', `heartbeat: HTTP 404 (an older cloud without POST /edges/{id}/heartbeat, or it does not know edge ${this.o.edgeId}): health is not reported: ${detail}`);
    return this.failure('refused', `heartbeat refused: HTTP ${status}${code ? ` ${code}` : ''}: ${detail}`);
  }

  /** Records a failed heartbeat; logs it when it is new or a minute has passed. */
  private failure(result: HeartbeatResult, error: string): HeartbeatResult {
    this.failed++;
    this.lastError = error;
    const now = Date.now();
    if (!this.stopped && (this.lastLogged?.error !== error || now - this.lastLogged.at >= RELOG_MS)) {
      this.log.warn({ error, failed: this.failed }, 'heartbeat failed; retried at the next tick');
      this.lastLogged = { error, at: now };
    }
    return result;
  }
}
