/**
 * Structured logging. One root pino logger; components take a child (`{component}`,
 * `{camera}`, `{exporter}`). Secrets never reach a log line (shared/redact.ts): fields with
 * credential-like names are masked at any depth (`{cfg:{cloud:{api_key}}}`), header values
 * outside an allowlist too, and every URL in a field, a message or an error has its
 * credentials masked by `redactUrl`.
 */
import { pino, type Logger } from 'pino';
import { LOG_MASK, redactSecrets, redactUrl } from './redact.js';
import { prettyDestination } from './log-pretty.js';

export type { Logger };

export { redactUrl, redactSecrets };

/**
 * pino's error serializer, then the same masking as every other field (messages, stacks,
 * extra properties, causes). Its result is not a plain object; JSON makes it one.
 */
const errSerializer = (e: unknown) => redactSecrets(JSON.parse(JSON.stringify(pino.stdSerializers.err(e as Error))) as Record<string, unknown>, LOG_MASK);

export interface LogOptions {
  level?: string;
  name?: string;
  /** Where lines go (default stdout). */
  destination?: { write(s: string): unknown; isTTY?: boolean };
  /** `pretty` (readable lines) or `json`; default `ANPR_LOG_FORMAT`, else pretty on a TTY, JSON otherwise. */
  format?: 'json' | 'pretty';
}

/** The format a logger writing to `dest` uses: asked for, from ANPR_LOG_FORMAT, or by whether `dest` is a terminal. */
export function logFormat(dest: { isTTY?: boolean }, asked?: string, env: NodeJS.ProcessEnv = process.env): 'json' | 'pretty' {
  const f = asked ?? env.ANPR_LOG_FORMAT;
  if (f === 'json' || f === 'pretty') return f;
  return dest.isTTY ? 'pretty' : 'json';
}

/**
 * Creates the process's root logger; level from `ANPR_LOG_LEVEL` (default info). On a
 * terminal it prints readable lines (shared/log-pretty.ts); to a pipe, a file or journald
 * it prints pino's JSON lines. `ANPR_LOG_FORMAT=json|pretty` overrides the choice.
 */
export function createLogger(opts: LogOptions = {}): Logger {
  const dest = opts.destination ?? process.stdout;
  const pretty = logFormat(dest, opts.format) === 'pretty';
  const color = pretty && !!dest.isTTY && !process.env.NO_COLOR;
  // JSON to stdout keeps pino's own (asynchronous-safe) destination.
  const stream = pretty ? prettyDestination(dest, color) : opts.destination;
  const options: pino.LoggerOptions = {
    name: opts.name ?? 'anpr',
    level: opts.level ?? process.env.ANPR_LOG_LEVEL ?? 'info',
    serializers: { err: errSerializer },
    formatters: {
      // Every log line's fields and every child's bindings, at any depth.
      log: (obj) => redactSecrets(obj, LOG_MASK),
      bindings: (b) => redactSecrets(b, LOG_MASK),
    },
    hooks: {
      // Messages may embed URLs (ffmpeg stderr, connection errors): mask credentials there too.
      logMethod(args, method) {
        const masked = args.map((a) => (typeof a === 'string' ? redactUrl(a) : a)) as Parameters<typeof method>;
        method.apply(this, masked);
      },
    },
  };
  const root = stream ? pino(options, stream) : pino(options);
  // pino applies formatters.bindings to the root's bindings only; children inherit this
  // `child` (they are prototype copies), so their bindings are masked too.
  const child = root.child;
  root.child = function (this: Logger, bindings, childOpts) {
    return child.call(this, redactSecrets(bindings, LOG_MASK), childOpts);
  } as Logger['child'];
  return root;
}

/** A logger that drops everything; for tests and library use without a logger. */
export const silentLogger: Logger = pino({ level: 'silent' });
