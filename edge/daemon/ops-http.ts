/**
 * Local operations HTTP, bound to 127.0.0.1 by default: `/healthz` (200 ok/degraded, 503 down),
 * `/metrics` (Prometheus text), `/status` (cameras, exporters, outbox), and
 * `POST /outbox/retry|replay` so the CLI changes the outbox through the daemon, its one writer.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { EdgeDaemon } from './daemon.js';

export interface OpsHttp {
  url: string;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  const text = type === 'application/json' ? JSON.stringify(body) : String(body);
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' }).end(text);
}

export async function startOpsHttp(d: EdgeDaemon, host: string, port: number): Promise<OpsHttp> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const u = new URL(req.url ?? '/', 'http://local');
    try {
      if (req.method === 'GET' && u.pathname === '/healthz') {
        const h = d.health();
        return send(res, h.ok ? 200 : 503, { status: h.status, problems: h.problems });
      }
      if (req.method === 'GET' && u.pathname === '/metrics') return send(res, 200, d.metrics.text(), 'text/plain; version=0.0.4');
      if (req.method === 'GET' && u.pathname === '/status') return send(res, 200, d.status());
      if (req.method === 'POST' && u.pathname === '/outbox/retry') {
        return send(res, 200, { revived: d.retry(u.searchParams.get('exporter') ?? undefined) });
      }
      if (req.method === 'POST' && u.pathname === '/outbox/replay') {
        const ex = u.searchParams.get('exporter');
        if (!ex) return send(res, 400, { detail: 'exporter is required' });
        return send(res, 200, { queued: d.replay(ex, Number(u.searchParams.get('since_ms') ?? 0)) });
      }
      send(res, 404, { detail: 'not found' });
    } catch (e) {
      send(res, 500, { detail: (e as Error).message });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address() as { port: number };
  return {
    url: `http://${host}:${addr.port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
