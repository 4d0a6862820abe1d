/**
 * Structured logging. One root pino logger; components take a child (`{component}`,
 * `{camera}`, `{exporter}`). Secrets never reach a log line: known secret fields are
 * redacted by path and every URL with credentials is masked by `redactUrl`.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

const REDACT_PATHS = [
  'password',
  '*.password',
  'api_key',
  '*.api_key',
  'apiKey',
  '*.apiKey',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'headers["x-api-key"]',
  'auth.token',
  'auth.password',
  '*.auth.token',
  '*.auth.password',
];

/** Masks user:password in any URL (rtsp://, mqtt://, http://) found in a string. */
export function redactUrl(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)([^\s/@:]+)(?::([^\s/@]*))?@/gi, (_m, scheme: string) => `${scheme}***:***@`);
}

export interface LogOptions {
  level?: string;
  name?: string;
}

/** Creates the process's root logger; level from `ANPR_LOG_LEVEL` (default info). */
export function createLogger(opts: LogOptions = {}): Logger {
  return pino({
    name: opts.name ?? 'anpr',
    level: opts.level ?? process.env.ANPR_LOG_LEVEL ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: {
      err: pino.stdSerializers.err,
      url: (u: unknown) => (typeof u === 'string' ? redactUrl(u) : u),
    },
    hooks: {
      // Messages may embed URLs (ffmpeg stderr, connection errors): mask credentials there too.
      logMethod(args, method) {
        const masked = args.map((a) => (typeof a === 'string' ? redactUrl(a) : a)) as Parameters<typeof method>;
        method.apply(this, masked);
      },
    },
  });
}

/** A logger that drops everything; for tests and library use without a logger. */
export const silentLogger: Logger = pino({ level: 'silent' });
