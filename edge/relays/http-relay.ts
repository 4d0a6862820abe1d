/**
 * An HTTP relay: one request is one pulse (the relay times the pulse itself, or the request
 * starts a timer on it). POST and PUT send `{"action":"pulse","duration_ms":N}` as JSON; GET
 * sends nothing. A 2xx answer is success; any other status, no answer within `timeout_ms` or
 * an abort is a failure. 4xx answers are permanent (a wrong URL or credentials stay wrong on a
 * retry); 5xx, timeouts and connection errors are not.
 *
 * The URL's credentials and query secrets are masked in error messages (shared/redact.ts);
 * the auth token, password and header values never appear in a message.
 */
import { Agent, request } from 'undici';
import { redactUrl } from '../../shared/redact.js';
import type { HttpRelayConfig } from '../../shared/schemas/sensor-config.js';
import { RelayError, RelayErrorCode, type Relay } from './types.js';

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
    this.agent ??= new Agent({ connectTimeout: cfg.timeout_ms, keepAliveTimeout: 10_000 });
    let status: number;
    try {
      const res = await request(cfg.url, { method: cfg.method, headers, body, signal: aborted, dispatcher: this.agent });
      status = res.statusCode;
      await res.body.dump({ limit: 64 * 1024 }).catch(() => {});
    } catch (e) {
      if (aborted.aborted) throw new RelayError(RelayErrorCode.TIMEOUT, `${what}: no answer in time`, { cause: e });
      const code = (e as { code?: string }).code ?? (e as Error).name;
      throw new RelayError(RelayErrorCode.UNREACHABLE, `${what}: ${code}: ${redactUrl((e as Error).message)}`, { cause: e });
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
