import type { Command, Parsed } from '../command.js';
import { str } from '../command.js';
import { AppError, ErrorCode } from '../../shared/errors.js';

const common = {
  config: { type: 'string' as const, short: 'c', arg: 'FILE', description: 'Edge config (finds data_dir and the running daemon)' },
  'data-dir': { type: 'string' as const, arg: 'DIR', description: 'Outbox directory, instead of --config' },
};

interface Located {
  dataDir: string;
  /** The running daemon's ops HTTP, and the token its POST routes want. */
  ops: { url: string; token: string | null } | null;
  /** Exporter names the config file delivers to (none with --data-dir). */
  configured: string[];
}

/** Where the daemon listens, as a client reaches it (a wildcard bind is reached on loopback). */
function opsUrl(host: string, port: number): string {
  const h = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
  return `http://${h}:${port}`;
}

async function locate(p: Parsed): Promise<Located> {
  const file = str(p, 'config');
  if (file) {
    const { loadEdgeConfig } = await import('../../edge/config/load.js');
    const { readOpsToken } = await import('../../edge/daemon/ops-token.js');
    const cfg = loadEdgeConfig(file);
    const configured = [...(cfg.cloud?.deliver_events ? ['cloud'] : []), ...cfg.exporters.filter((e) => e.enabled).map((e) => e.name)];
    return { dataDir: cfg.data_dir, ops: cfg.http.port ? { url: opsUrl(cfg.http.host, cfg.http.port), token: readOpsToken(cfg) } : null, configured };
  }
  const dir = str(p, 'data-dir');
  if (!dir) throw new AppError('INVALID_REQUEST', 'give --config FILE or --data-dir DIR');
  return { dataDir: dir, ops: null, configured: [] };
}

/** Changes go through the running daemon (the outbox's one writer) when it answers. */
async function viaDaemon(ops: Located['ops'], path: string): Promise<Record<string, number> | null> {
  if (!ops) return null;
  try {
    const { request } = await import('undici');
    const headers: Record<string, string> = ops.token ? { authorization: `Bearer ${ops.token}` } : {};
    const res = await request(`${ops.url}${path}`, { method: 'POST', headers, headersTimeout: 3000 });
    if (res.statusCode !== 200) {
      // The daemon's contract error body: its code and detail are the CLI's (a refusal is not a reason to write the outbox directly).
      const text = await res.body.text();
      let b: { error_code?: string; detail?: string } = {};
      try {
        b = JSON.parse(text) as typeof b;
      } catch {
        /* not JSON: shown as it is */
      }
      const code = b.error_code && b.error_code in ErrorCode ? (b.error_code as ErrorCode) : 'INTERNAL_ERROR';
      throw new AppError(code, `the running daemon refused (HTTP ${res.statusCode}): ${b.detail ?? text.slice(0, 200)}`);
    }
    return (await res.body.json()) as Record<string, number>;
  } catch (e) {
    if (e instanceof AppError) throw e;
    return null;
  }
}

async function openOutbox(dataDir: string) {
  const { existsSync } = await import('node:fs');
  const { join } = await import('node:path');
  if (!existsSync(join(dataDir, 'outbox.db'))) throw new AppError('RESOURCE_NOT_FOUND', `no outbox at ${dataDir}`);
  const { Outbox } = await import('../../edge/outbox/outbox.js');
  return new Outbox({ dataDir, exporters: [], sweepOrphans: false });
}

const status: Command = {
  name: 'status',
  summary: 'Show events, per-exporter delivery state and the latest dead letters',
  options: { ...common, json: { type: 'boolean', description: 'Print JSON' } },
  async run(p) {
    const { dataDir } = await locate(p);
    const ob = await openOutbox(dataDir);
    try {
      const st = ob.stats();
      const dead = ob.deadLetters(20);
      if (p.values.json) {
        console.log(JSON.stringify({ ...st, dead_letters: dead }, null, 2));
        return;
      }
      console.log(`events: ${st.events}   images on disk: ${(st.imageBytes / 1048576).toFixed(1)} MiB`);
      console.log('exporter             pending  delivered  dead  oldest pending');
      for (const [name, s] of Object.entries(st.byExporter)) {
        const age = s.oldestPendingAt ? `${Math.round((Date.now() - s.oldestPendingAt) / 1000)} s ago` : '-';
        console.log(`${name.padEnd(20)} ${String(s.pending).padStart(7)}  ${String(s.delivered).padStart(9)}  ${String(s.dead).padStart(4)}  ${age}`);
      }
      if (dead.length) {
        console.log('\ndead letters (newest first; `anpr outbox retry` re-queues them):');
        for (const d of dead) console.log(`  ${d.exporter}  ${d.eventId}  ${d.lastError ?? ''}`);
      }
    } finally {
      ob.close();
    }
  },
};

const retry: Command = {
  name: 'retry',
  summary: 'Re-queue dead letters and retry pending deliveries now',
  options: { ...common, exporter: { type: 'string', arg: 'NAME', description: 'Only this exporter (default all)' } },
  async run(p) {
    const { dataDir, ops } = await locate(p);
    const ex = str(p, 'exporter');
    const r = await viaDaemon(ops, `/outbox/retry${ex ? `?exporter=${encodeURIComponent(ex)}` : ''}`);
    if (r) return void console.log(`re-queued ${r.revived} deliveries (through the running daemon)`);
    const ob = await openOutbox(dataDir);
    try {
      console.log(`re-queued ${ob.retry(ex)} deliveries`);
    } finally {
      ob.close();
    }
  },
};

const replay: Command = {
  name: 'replay',
  summary: 'Send events again to one exporter (e.g. after the cloud lost data); the cloud dedups by event_id',
  options: {
    ...common,
    exporter: { type: 'string', arg: 'NAME', description: 'Exporter to replay to (e.g. cloud)' },
    since: { type: 'string', arg: 'ISO', description: 'Only events stored since this time (default: all)' },
  },
  async run(p) {
    const ex = str(p, 'exporter');
    if (!ex) throw new AppError('INVALID_REQUEST', '--exporter NAME is required');
    const since = str(p, 'since');
    const sinceMs = since ? Date.parse(since) : 0;
    if (Number.isNaN(sinceMs)) throw new AppError('INVALID_REQUEST', `--since must be an ISO date-time, got '${since}'`);
    const { dataDir, ops, configured } = await locate(p);
    const r = await viaDaemon(ops, `/outbox/replay?exporter=${encodeURIComponent(ex)}&since_ms=${sinceMs}`);
    if (r) return void console.log(`queued ${r.queued} events for ${ex} (through the running daemon)`);
    const ob = await openOutbox(dataDir);
    try {
      // Offline too, only a real exporter: one the config names or the outbox already delivers to (a typo would queue every event for nobody).
      const known = new Set([...configured, ...Object.keys(ob.stats().byExporter)]);
      if (!known.has(ex)) throw new AppError('VALIDATION_ERROR', `unknown exporter '${ex}' (known: ${[...known].join(', ') || 'none'})`);
      console.log(`queued ${ob.replay(ex, sinceMs)} events for ${ex}`);
    } finally {
      ob.close();
    }
  },
};

const command: Command = {
  name: 'outbox',
  summary: 'Inspect and repair the edge outbox (status, retry, replay)',
  subcommands: [status, retry, replay],
};
export default command;
