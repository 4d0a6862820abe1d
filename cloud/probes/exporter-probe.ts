/**
 * Tests an exporter's destination for real: REST and webhook exporters get an HTTP POST of
 * a small test message with the exporter's headers and auth; MQTT exporters connect with
 * the exporter's credentials and wait for CONNACK. Success means the destination answered
 * and accepted the credentials (HTTP status below 500 and not 401/403/407).
 */
import { request } from 'undici';
import type { ExporterCreate } from '../../shared/schemas/config.js';
import { redactUrl } from '../../shared/log.js';

export type ExporterProbe =
  | { ok: true; ms: number; http_status?: number }
  | { ok: false; ms: number; error: string; http_status?: number };

export function authHeaders(e: Pick<ExporterCreate, 'auth' | 'headers'>): Record<string, string> {
  const h: Record<string, string> = { ...e.headers };
  const a = e.auth;
  if (a.type === 'bearer') h.authorization = `Bearer ${a.token}`;
  if (a.type === 'api_key') h['x-api-key'] = a.token!;
  if (a.type === 'basic') h.authorization = `Basic ${Buffer.from(`${a.username}:${a.password ?? ''}`).toString('base64')}`;
  return h;
}

function reason(e: unknown): string {
  const err = e as { code?: string; message?: string; cause?: { code?: string } };
  const code = err.code ?? err.cause?.code;
  if (code === 'ECONNREFUSED') return 'Connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'Host name could not be resolved';
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'ETIMEDOUT') return 'Connection timeout';
  return redactUrl(err.message ?? String(e));
}

export async function probeExporter(e: ExporterCreate, timeoutMs: number): Promise<ExporterProbe> {
  const t0 = Date.now();
  if (e.type === 'mqtt') {
    const { connectAsync } = await import('mqtt');
    const cfg = e.config as { username?: string; password?: string };
    try {
      const client = await connectAsync(e.url, {
        username: cfg.username,
        password: cfg.password,
        connectTimeout: timeoutMs,
        reconnectPeriod: 0,
        clientId: `anpr-probe-${Math.random().toString(16).slice(2, 10)}`,
      });
      await client.endAsync();
      return { ok: true, ms: Date.now() - t0 };
    } catch (err) {
      return { ok: false, ms: Date.now() - t0, error: reason(err) };
    }
  }
  try {
    const res = await request(e.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'anpr-exporter-test', ...authHeaders(e) },
      body: JSON.stringify({ type: 'anpr.test', message: 'Connection test from the ANPR cloud', timestamp: new Date().toISOString() }),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body.dump();
    const s = res.statusCode;
    if (s >= 500 || s === 401 || s === 403 || s === 407) {
      return { ok: false, ms: Date.now() - t0, http_status: s, error: `HTTP ${s}` };
    }
    return { ok: true, ms: Date.now() - t0, http_status: s };
  } catch (err) {
    const ms = Date.now() - t0;
    const aborted = (err as Error).name === 'TimeoutError' || (err as Error).name === 'AbortError';
    return { ok: false, ms, error: aborted ? 'Connection timeout' : reason(err) };
  }
}
