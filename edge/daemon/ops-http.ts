/**
 * Local operations HTTP, bound to 127.0.0.1 by default: `/healthz` (200 ok/degraded, 503 down),
 * `/metrics` (Prometheus text), `/status` (cameras, exporters, outbox), and
 * `POST /outbox/retry|replay` so the CLI changes the outbox through the daemon, its one writer.
 *
 * Guarantees (checked in this order, before any route runs):
 * - DNS rebinding gets nothing: a request whose `Host` is not an IP literal or `localhost` is
 *   refused (403), so a page on a foreign name that resolves to this box cannot read it.
 * - A browser never acts here: any request carrying `Origin` is refused (403).
 * - Changes need the token (edge/daemon/ops-token.ts) as `Authorization: Bearer`, on every bind;
 *   beyond loopback, `/status` and `/metrics` need it too (only `/healthz` stays open).
 * - Bad input changes nothing: `exporter` must name an exporter in force, `since_ms` must be a
 *   non-negative integer; errors have the contract's body (`detail`, `error_code`, `timestamp`,
 *   `request_id`) and a 4xx status.
 */
import { randomUUID, timingSafeEqual, createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { AppError, isAppError } from '../../shared/errors.js';
import type { EdgeDaemon } from './daemon.js';

export interface OpsHttp {
  url: string;
  close(): Promise<void>;
}

export interface OpsHttpOptions {
  host: string;
  port: number;
  /** Bearer token for changes (and for reads beyond loopback). */
  token: string;
}

/** What the ops HTTP needs of the daemon. */
type OpsDaemon = Pick<EdgeDaemon, 'health' | 'status' | 'retry' | 'replay' | 'exportersInForce'> & { metrics: { text(): string } };

function send(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  const text = type === 'application/json' ? JSON.stringify(body) : String(body);
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' }).end(text);
}

function sendError(res: ServerResponse, e: AppError): void {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'cache-control': 'no-store' };
  if (e.code === 'AUTHENTICATION_FAILED') headers['www-authenticate'] = 'Bearer';
  const body = { detail: e.message, error_code: e.code, timestamp: new Date().toISOString(), request_id: randomUUID(), ...(e.errors ? { errors: e.errors } : {}) };
  res.writeHead(e.status, headers).end(JSON.stringify(body));
}

/** True for an address that only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\./.test(h) || h === '::ffff:127.0.0.1';
}

/** The host part of a Host header, or null when it is malformed. */
function hostName(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::\d{1,5})?$/.exec(header.trim());
  return m ? m[1].replace(/^\[|\]$/g, '') : null;
}

/** Host names a request may be addressed to: IP literals and localhost (never a DNS name an attacker controls). */
export function hostAllowed(header: string | undefined): boolean {
  const h = hostName(header);
  return h !== null && (isIP(h) !== 0 || h.toLowerCase() === 'localhost');
}

const digest = (s: string) => createHash('sha256').update(s).digest();

function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return !!m && timingSafeEqual(digest(m[1]), digest(token));
}

function sinceMs(v: string | null): number {
  if (v === null) return 0;
  if (!/^\d{1,15}$/.test(v)) throw new AppError('VALIDATION_ERROR', 'since_ms must be a non-negative integer (ms since the epoch)', { errors: [{ field: 'since_ms', message: `since_ms: expected a non-negative integer, got '${v.slice(0, 40)}'` }] });
  return Number(v);
}

function exporterParam(d: OpsDaemon, v: string | null, required: boolean): string | undefined {
  if (v === null) {
    if (required) throw new AppError('VALIDATION_ERROR', 'exporter is required', { errors: [{ field: 'exporter', message: 'exporter: required' }] });
    return undefined;
  }
  const known = d.exportersInForce();
  if (!known.includes(v)) {
    throw new AppError('VALIDATION_ERROR', `unknown exporter '${v.slice(0, 64)}' (configured: ${known.join(', ') || 'none'})`, { errors: [{ field: 'exporter', message: 'exporter: not an exporter in force' }] });
  }
  return v;
}

/** The request handler; `readsNeedToken` is true when the server listens beyond loopback. */
export function opsHandler(d: OpsDaemon, o: { token: string; readsNeedToken: boolean }): (req: IncomingMessage, res: ServerResponse) => void {
  const readsNeedToken = o.readsNeedToken;
  return (req, res) => {
    try {
      if (!hostAllowed(req.headers.host)) throw new AppError('FORBIDDEN', 'Host must be an IP address or localhost');
      if (req.headers.origin !== undefined) throw new AppError('FORBIDDEN', 'requests from web pages (Origin) are not served');
      const u = new URL(req.url ?? '/', 'http://local');
      const authed = bearerMatches(req.headers.authorization, o.token);
      const needAuth = () => {
        if (!authed) throw new AppError('AUTHENTICATION_FAILED', 'a valid ops token is required (Authorization: Bearer <token>; see docs/edge.md)');
      };
      if (req.method === 'GET' && u.pathname === '/healthz') {
        const h = d.health();
        return send(res, h.ok ? 200 : 503, { status: h.status, problems: h.problems });
      }
      if (req.method === 'GET' && u.pathname === '/metrics') {
        if (readsNeedToken) needAuth();
        return send(res, 200, d.metrics.text(), 'text/plain; version=0.0.4');
      }
      if (req.method === 'GET' && u.pathname === '/status') {
        if (readsNeedToken) needAuth();
        return send(res, 200, d.status());
      }
      if (req.method === 'POST' && u.pathname === '/outbox/retry') {
        needAuth();
        return send(res, 200, { revived: d.retry(exporterParam(d, u.searchParams.get('exporter'), false)) });
      }
      if (req.method === 'POST' && u.pathname === '/outbox/replay') {
        needAuth();
        const ex = exporterParam(d, u.searchParams.get('exporter'), true)!;
        return send(res, 200, { queued: d.replay(ex, sinceMs(u.searchParams.get('since_ms'))) });
      }
      throw new AppError('RESOURCE_NOT_FOUND', 'not found');
    } catch (e) {
      sendError(res, isAppError(e) ? e : new AppError('SERVICE_UNAVAILABLE', (e as Error).message));
    }
  };
}

export async function startOpsHttp(d: OpsDaemon, o: OpsHttpOptions): Promise<OpsHttp> {
  const server = createServer(opsHandler(d, { token: o.token, readsNeedToken: !isLoopbackHost(o.host) }));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const addr = server.address() as { port: number };
  const shown = isIP(o.host) === 6 ? `[${o.host}]` : o.host;
  return {
    url: `http://${shown}:${addr.port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
