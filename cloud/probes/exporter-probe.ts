/**
 * Tests an exporter's destination for real: REST and webhook exporters get an HTTP POST of
 * a small test message with the exporter's headers and auth; MQTT exporters connect with
 * the exporter's credentials and wait for CONNACK. Success means the destination answered
 * and accepted the credentials (HTTP status below 500 and not 401/403/407).
 * Every probe answers within its timeout (plus the time to end the client), whatever the peer
 * does: one that closes after the first packet, never answers, or speaks another protocol.
 * The MQTT client is always ended, so no reconnect or socket outlives the probe.
 * Destination policy and answers (cloud/limits/probe-policy.ts): a destination that did not
 * answer (refused, filtered, unresolvable, reset, not MQTT) reads `PROBE_FAILED`, at the
 * timeout, with the reason in the server log; an HTTP status or an MQTT CONNACK refusal is an
 * answer and is reported as such.
 */
import { request } from 'undici';
import type { ExporterCreate } from '../../shared/schemas/config.js';
import { redactUrl, silentLogger, type Logger } from '../../shared/log.js';
import { answerAtTimeout, checkProbeDestination, PROBE_FAILED } from '../limits/probe-policy.js';

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

/** The caller's answer for a destination that did not answer: logged, generic, at the timeout. */
async function failed(log: Logger, url: string, why: string, t0: number, timeoutMs: number): Promise<ExporterProbe> {
  log.warn({ url: redactUrl(url), reason: why, ms: Date.now() - t0 }, 'exporter test failed');
  return { ok: false, error: PROBE_FAILED, ms: await answerAtTimeout(t0, timeoutMs) };
}

/** Tests `e`'s destination; rejects only with 403 FORBIDDEN (destination policy). */
export async function probeExporter(e: ExporterCreate, timeoutMs: number, log: Logger = silentLogger): Promise<ExporterProbe> {
  const t0 = Date.now();
  await checkProbeDestination(e.url);
  if (e.type === 'mqtt') {
    const r = await probeMqtt(e, timeoutMs, t0);
    return r.ok || r.connack ? r : failed(log, e.url, r.error, t0, timeoutMs);
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
    const aborted = (err as Error).name === 'TimeoutError' || (err as Error).name === 'AbortError';
    return failed(log, e.url, aborted ? 'Connection timeout' : reason(err), t0, timeoutMs);
  }
}

type MqttProbe = { ok: true; ms: number } | { ok: false; ms: number; error: string; connack?: boolean };

/**
 * MQTT CONNECT → CONNACK, settled by the first of connect, error, close or the timer.
 * `connack` marks a failure the broker itself answered (a CONNACK return code).
 */
async function probeMqtt(e: ExporterCreate, timeoutMs: number, t0: number): Promise<MqttProbe> {
  const { connect } = await import('mqtt');
  const cfg = e.config as { username?: string; password?: string };
  let client: ReturnType<typeof connect>;
  try {
    client = connect(e.url, {
      username: cfg.username,
      password: cfg.password,
      // Our own timer below settles the probe; the library's would only race it.
      connectTimeout: timeoutMs + 1000,
      reconnectPeriod: 0,
      clientId: `anpr-probe-${Math.random().toString(16).slice(2, 10)}`,
    });
  } catch (err) {
    return { ok: false, ms: Date.now() - t0, error: reason(err) };
  }
  return new Promise<MqttProbe>((resolve) => {
    let settled = false;
    const settle = (r: MqttProbe, graceful: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.removeAllListeners('connect');
      client.removeAllListeners('close');
      // Errors after the answer (a late socket error while ending) have nobody to tell.
      client.on('error', () => undefined);
      client.end(!graceful, () => undefined);
      resolve(r);
    };
    // The clock started before the client library was loaded: the answer keeps to the timeout.
    const timer = setTimeout(() => settle({ ok: false, ms: Date.now() - t0, error: 'Connection timeout' }, false), Math.max(0, t0 + timeoutMs - Date.now()));
    client.once('connect', () => settle({ ok: true, ms: Date.now() - t0 }, true));
    client.once('error', (err) => {
      const connack = typeof (err as { code?: unknown }).code === 'number';
      settle({ ok: false, ms: Date.now() - t0, error: connack ? redactUrl(err.message) : reason(err), connack }, false);
    });
    client.once('close', () => settle({ ok: false, ms: Date.now() - t0, error: 'Connection closed before CONNACK' }, false));
  });
}
