/**
 * The contract every relay driver keeps, and the typed errors they fail with.
 *
 * - `pulse(ms)` closes the relay, holds it `ms`, opens it again, and resolves once the
 *   relay has been told to open again (an HTTP relay: once the one request was answered 2xx).
 *   It rejects with a `RelayError`; it never leaves the relay closed on purpose: whatever
 *   went wrong after the "on" command, the driver still sends "off" (or releases the line).
 * - `signal` aborts a pulse: the driver stops waiting, sends "off" where it sent "on", and
 *   rejects with `RELAY_TIMEOUT`.
 * - Constructors only store their arguments: nothing is opened or spawned before a pulse.
 * - `close()` releases what the driver holds (a port, sockets); a later pulse may reopen.
 *
 * Drivers are not exported from edge/relays/index.ts: the only way to pulse from the daemon is
 * `BarrierController.open` (one pulse per pass).
 */

/** Stable codes of relay failures (an alert event carries them). */
export const RelayErrorCode = {
  /** The barrier has no relay in its config: it is declared but opens nothing. */
  NOT_CONFIGURED: 'RELAY_NOT_CONFIGURED',
  /** The barrier's config does not parse (shared/schemas/sensor-config.ts). */
  CONFIG_INVALID: 'RELAY_CONFIG_INVALID',
  /** No answer (or no pulse completed) in time. */
  TIMEOUT: 'RELAY_TIMEOUT',
  /** An HTTP relay answered outside 2xx. */
  HTTP_STATUS: 'RELAY_HTTP_STATUS',
  /** An HTTP relay could not be reached (refused, reset, DNS). */
  UNREACHABLE: 'RELAY_UNREACHABLE',
  /** `gpioset` is not installed at the configured path (Debian: `apt-get install gpiod`). */
  GPIOSET_MISSING: 'RELAY_GPIOSET_MISSING',
  /** `gpioset` ran and failed (no such chip or line, line busy, permission). */
  GPIO_FAILED: 'RELAY_GPIO_FAILED',
  /** The serial port cannot be opened (absent, permission, busy). */
  SERIAL_UNAVAILABLE: 'RELAY_SERIAL_UNAVAILABLE',
  /** The serial port went away (unplugged) or a write to it failed. */
  SERIAL_LOST: 'RELAY_SERIAL_LOST',
  /** The controller was closed (the daemon is stopping): nothing is pulsed any more. */
  CLOSED: 'RELAY_CLOSED',
  /** Any other failure of a driver (a bug, not a device): see the message. */
  FAILED: 'RELAY_FAILED',
} as const;
export type RelayErrorCode = (typeof RelayErrorCode)[keyof typeof RelayErrorCode];

/** A relay failure with a stable code; `permanent` failures are not retried (retrying cannot help). */
export class RelayError extends Error {
  readonly code: RelayErrorCode;
  readonly permanent: boolean;

  constructor(code: RelayErrorCode, message: string, opts: { permanent?: boolean; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.name = 'RelayError';
    this.code = code;
    this.permanent = opts.permanent ?? false;
  }
}

export const isRelayError = (e: unknown): e is RelayError => e instanceof RelayError;

/** One relay: closed for `durationMs`, then open again. */
export interface Relay {
  /** Resolves when the pulse is done; rejects with a RelayError (see the module's guarantees). */
  pulse(durationMs: number, signal?: AbortSignal): Promise<void>;
  /** Releases what the driver holds; safe to call twice. */
  close(): Promise<void>;
}

/** What a driver notices outside a pulse: its device went away, or came back. */
export type RelayNotice = { kind: 'fault'; code: RelayErrorCode; message: string } | { kind: 'recovered'; message: string };

/** A promise that rejects with RELAY_TIMEOUT when `signal` aborts (never resolves otherwise). */
export function abortRejection(signal: AbortSignal | undefined, what: string): { promise: Promise<never>; dispose(): void } {
  if (!signal) return { promise: new Promise<never>(() => {}), dispose: () => {} };
  let onAbort = () => {};
  const promise = new Promise<never>((_, reject) => {
    onAbort = () => reject(new RelayError(RelayErrorCode.TIMEOUT, `${what}: timed out`));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  promise.catch(() => {}); // raced by the caller; an unraced rejection must not crash the process
  return { promise, dispose: () => signal.removeEventListener('abort', onAbort) };
}

/** Waits `ms`, or less when `signal` aborts (then it resolves `false`). */
export function holdFor(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const done = (full: boolean) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(full);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
