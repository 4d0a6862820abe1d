/**
 * An HTTP relay: one request is one pulse (the relay times the pulse itself, or the request
 * starts a timer on it). POST and PUT send `{"action":"pulse","duration_ms":N}` as JSON; GET
 * sends nothing. A 2xx answer is success; any other status, no answer within `timeout_ms` or
 * an abort is a failure.
 *
 * Retried (not permanent) only when the relay certainly did not pulse: it refused or never
 * completed the connection (the connect timeout is 60% of `timeout_ms`, so a host that is down
 * fails as unreachable before the request's own deadline), or it answered 5xx. A request that
 * was sent and got no answer in time, or whose connection broke before the answer, may have
 * pulsed: it is a permanent failure, never repeated, because a second pulse can close a
 * toggle-style gate on the car (measured: a relay answering after 500 ms on a loaded box got
 * two pulses for one pass). 4xx answers are permanent too (a wrong URL or credentials stay
 * wrong on a retry).
 *
 * The URL's credentials and query secrets are masked in error messages (shared/redact.ts);
 * the auth token, password and header values never appear in a message.
 */
import { Agent, request } from 'undici';
import { redactUrl } from '../../shared/redact.js';
import type { HttpRelayConfig } from '../../shared/schemas/sensor-config.js';
import { RelayError, RelayErrorCode, type Relay } from './types.js';

/** Errors that end a request before a byte of it reached the relay: safe to retry. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT']);

export class HttpRelay implements Relay {
  private agent: Agent | null = null;

  constructor(private readonly cfg: HttpRelayConfig) {}

  async pulse(durationMs: number, signal?: AbortSignal): Promise<void> {
    const { cfg } = this;
    const what = `${cfg.method} ${redactUrl(cfg.url)}`;
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(cfg.headers)) headers[k.toLowerCase()] = v;
    if (cfg.auth.type === 'bearer') headers.authorization = `Bearer ${cfg.auth.token}`;
    if (cfg.auth.type === 'basic') headers.authorization = `Basic ${Buffer.from(`${cfg.auth.username}:${cfg.auth.password ?? ''}`).toString('base64')}`;
    let body: string | undefined;
    if (cfg.method !== 'GET') {
      body = JSON.stringify({ action: 'pulse', duration_ms: durationMs });
      headers['content-type'] ??= 'application/json';
    }
    const timeout = AbortSignal.timeout(cfg.timeout_ms);
    const aborted = signal ? AbortSignal.any([signal, timeout]) : timeout;
    this.agent ??= new Agent({ connectTimeout: Math.max(50, Math.floor(cfg.timeout_ms * 0.6)), keepAliveTimeout: 10_000 });
    let status: number;
    try {
      const res = await request(cfg.url, { method: cfg.method, headers, body, signal: aborted, dispatcher: this.agent });
      status = res.statusCode;
      await res.body.dump({ limit: 64 * 1024 }).catch(() => {});
    } catch (e) {
      const code = (e as { code?: string }).code ?? (e as Error).name;
      if (NOT_SENT.has(code)) throw new RelayError(RelayErrorCode.UNREACHABLE, `${what}: ${code}: ${redactUrl((e as Error).message)}`, { cause: e });
      if (aborted.aborted) {
        throw new RelayError(RelayErrorCode.TIMEOUT, `${what}: no answer within ${cfg.timeout_ms} ms; not repeated (the relay may have pulsed)`, { cause: e, permanent: true });
      }
      throw new RelayError(RelayErrorCode.UNREACHABLE, `${what}: ${code} before the answer; not repeated (the relay may have pulsed)`, { cause: e, permanent: true });
    }
    if (status < 200 || status >= 300) {
      throw new RelayError(RelayErrorCode.HTTP_STATUS, `${what}: HTTP ${status}`, { permanent: status >= 400 && status < 500 && status !== 408 && status !== 429 });
    }
  }

  async close(): Promise<void> {
    const a = this.agent;
    this.agent = null;
    await a?.destroy().catch(() => {});
  }
}
