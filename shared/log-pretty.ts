/**
 * Human-readable log lines for a terminal, from pino's JSON lines:
 * `12:34:56.789 INFO  [stream] subscriber connected who=user:admin camera_id=cam-001`,
 * then an error's stack indented below. Used by shared/log.ts when stdout is a TTY; pipes,
 * files and journald get the JSON lines unchanged. Values are already redacted: this only
 * formats what pino wrote.
 */

const LEVELS: Record<number, [string, string]> = {
  10: ['TRACE', '\x1b[90m'],
  20: ['DEBUG', '\x1b[36m'],
  30: ['INFO ', '\x1b[32m'],
  40: ['WARN ', '\x1b[33m'],
  50: ['ERROR', '\x1b[31m'],
  60: ['FATAL', '\x1b[35m'],
};
const RESET = '\x1b[0m';
const DIM = '\x1b[2m';
/** Fields every line has, or that the line shows in its own place. */
const SHOWN = new Set(['time', 'level', 'msg', 'pid', 'hostname', 'name', 'component', 'err']);

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

function value(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v) ?? String(v);
}

/** One pino JSON line → one (or, with a stack, several) readable lines; anything else unchanged. */
export function formatPretty(line: string, color = false): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : line + '\n';
  }
  if (typeof o !== 'object' || o === null) return line.endsWith('\n') ? line : line + '\n';
  const t = new Date(typeof o.time === 'number' ? o.time : Date.now());
  const time = `${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())}.${pad(t.getMilliseconds(), 3)}`;
  const [label, tint] = LEVELS[o.level as number] ?? [String(o.level).toUpperCase().padEnd(5), ''];
  const parts = [color ? `${DIM}${time}${RESET}` : time, color && tint ? `${tint}${label}${RESET}` : label];
  if (o.component !== undefined) parts.push(`[${String(o.component)}]`);
  if (o.msg !== undefined) parts.push(String(o.msg));
  const err = o.err as { type?: string; message?: string; stack?: string } | undefined;
  if (err && typeof err === 'object' && !err.stack) parts.push(`err=${value(err.message ?? err)}`);
  for (const [k, v] of Object.entries(o)) if (!SHOWN.has(k) && v !== undefined) parts.push(`${k}=${value(v)}`);
  let out = parts.join(' ') + '\n';
  if (err && typeof err === 'object' && err.stack) out += err.stack.replace(/^/gm, '    ') + '\n';
  return out;
}

/** A pino destination that writes readable lines to `out` (a terminal). */
export function prettyDestination(out: { write(s: string): unknown }, color: boolean): { write(line: string): void } {
  return {
    write(line: string) {
      out.write(formatPretty(line, color));
    },
  };
}
