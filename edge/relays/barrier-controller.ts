/**
 * Opens barriers: the one way the edge pulses a relay.
 *
 * Guarantees:
 * - At most one pulse sequence per pass and barrier: `open(passId, sensor)` called again for
 *   the same pass and sensor returns the first call's result (the same promise while it runs),
 *   whatever that result was. The last `rememberPasses` passes (default 10,000) are remembered.
 * - Never hangs: each `open` resolves by its deadline, `budgetMs` (default 1500) after its turn
 *   on the relay began, plus the pulse itself for relays that hold it (gpio, serial). Within it
 *   a failed pulse is retried, up to `tries` (default 3) pulses `retryDelayMs` (default 100)
 *   apart; permanent failures (4xx, gpioset missing, bad config) are not retried. A driver
 *   that does not stop at the deadline is left to finish on its own; the result does not wait.
 * - Never rejects: the result says `{ok, attempts, error?: {code, message}, sent_at}`;
 *   `sent_at` (ms since the epoch) is when the attempt that succeeded (or the last attempt)
 *   began, null when nothing was tried. The caller turns `ok: false` into an alert event.
 * - One pulse at a time per relay: two passes through one barrier pulse one after the other,
 *   never interleaved (an LCUS board's on/off bytes would mix).
 * - Nothing here decides: the caller opens only for a pass its lists allowed. The relay comes
 *   from the sensor's config (shared/schemas/sensor-config.ts BarrierConfig); a barrier with
 *   no relay, or a config that does not parse, fails with a code and pulses nothing.
 * - Messages never hold secrets (URLs are redacted by the drivers; tokens are never written).
 */
import { silentLogger, type Logger } from '../../shared/log.js';
import { BarrierConfig, type RelayConfig } from '../../shared/schemas/sensor-config.js';
import { createRelay } from './create-relay.js';
import { RelayError, RelayErrorCode, abortRejection, holdFor, type Relay, type RelayNotice } from './types.js';

/** A sensor as in the config API (only `id`, `type` and `config` are read). */
export interface BarrierSensor {
  id: string;
  type?: string;
  config?: unknown;
}

export interface OpenFailure {
  code: RelayErrorCode;
  message: string;
}

export interface OpenResult {
  ok: boolean;
  /** Pulses tried (0 when the config kept any from being tried). */
  attempts: number;
  error?: OpenFailure;
  /** When the attempt that succeeded (or the last one) began, ms since the epoch; null when none began. */
  sent_at: number | null;
}

export interface BarrierControllerOptions {
  log?: Logger;
  /** Most pulses per open (default 3). */
  tries?: number;
  /** Pause between a failed pulse and the next (default 100 ms). */
  retryDelayMs?: number;
  /** Time for all tries of one open, on top of the pulse itself for relays that hold it (default 1500 ms). */
  budgetMs?: number;
  /** Passes remembered for idempotency (default 10,000). */
  rememberPasses?: number;
  /** gpioset binary for gpio relays (default `gpioset` on PATH). */
  gpiosetPath?: string;
  /** A relay's device lost or back between pulses (also logged). */
  onNotice?: (sensorId: string, notice: RelayNotice) => void;
  /** Makes the driver of a relay config (default edge/relays/create-relay.ts; tests give a driver that misbehaves). */
  relayFactory?: typeof createRelay;
}

interface Driver {
  fingerprint: string;
  relay: Relay;
  /** Settles when the last pulse queued on this relay has finished (or was given up on). */
  tail: Promise<void>;
}

/** How long the queue waits for a driver that outlived its deadline before the next pulse starts. */
const SETTLE_MS = 2000;

/** Resolves when `p` settles (it never rejects), or after SETTLE_MS, whichever is first. */
function settledOrGiveUp(p: Promise<unknown>): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, SETTLE_MS);
    void p.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export class BarrierController {
  private readonly passes = new Map<string, Promise<OpenResult>>();
  private readonly drivers = new Map<string, Driver>();
  private readonly log: Logger;
  private readonly tries: number;
  private readonly retryDelayMs: number;
  private readonly budgetMs: number;
  private readonly rememberPasses: number;
  private closed = false;

  constructor(private readonly opts: BarrierControllerOptions = {}) {
    this.log = (opts.log ?? silentLogger).child({ component: 'barrier' });
    this.tries = Math.max(1, opts.tries ?? 3);
    this.retryDelayMs = opts.retryDelayMs ?? 100;
    this.budgetMs = opts.budgetMs ?? 1500;
    this.rememberPasses = Math.max(1, opts.rememberPasses ?? 10_000);
  }

  /** Opens `sensor`'s barrier for pass `passId`, once (see the guarantees above). */
  open(passId: string, sensor: BarrierSensor): Promise<OpenResult> {
    const key = `${sensor.id}\u0000${passId}`;
    const known = this.passes.get(key);
    if (known) return known;
    const result = this.openOnce(passId, sensor).catch((e: unknown): OpenResult => {
      // Nothing above throws on purpose; a bug must still not open twice or crash the caller.
      this.log.error({ err: e, sensor: sensor.id, pass: passId }, 'barrier open failed unexpectedly');
      return { ok: false, attempts: 0, error: { code: RelayErrorCode.FAILED, message: String((e as Error)?.message ?? e) }, sent_at: null };
    });
    this.passes.set(key, result);
    if (this.passes.size > this.rememberPasses) this.passes.delete(this.passes.keys().next().value!);
    return result;
  }

  private async openOnce(passId: string, sensor: BarrierSensor): Promise<OpenResult> {
    const fail = (code: RelayErrorCode, message: string): OpenResult => {
      this.log.warn({ sensor: sensor.id, pass: passId, code }, `barrier not opened: ${message}`);
      return { ok: false, attempts: 0, error: { code, message }, sent_at: null };
    };
    if (this.closed) return fail(RelayErrorCode.CLOSED, 'the barrier controller is closed');
    if (sensor.type !== undefined && sensor.type !== 'barrier') return fail(RelayErrorCode.CONFIG_INVALID, `sensor ${sensor.id} is a ${sensor.type}, not a barrier`);
    const parsed = BarrierConfig.safeParse(sensor.config ?? {});
    if (!parsed.success) {
      const why = parsed.error.issues.map((i) => `config.${i.path.map(String).join('.')}: ${i.message}`).join('; ');
      return fail(RelayErrorCode.CONFIG_INVALID, `sensor ${sensor.id}: ${why}`);
    }
    const { relay: relayCfg, pulse_duration_ms: pulseMs } = parsed.data;
    if (!relayCfg) return fail(RelayErrorCode.NOT_CONFIGURED, `sensor ${sensor.id} has no relay configured`);
    const driver = this.driverFor(sensor.id, relayCfg);
    let release!: () => void;
    const turnDone = new Promise<void>((r) => (release = r));
    const before = driver.tail;
    driver.tail = before.then(() => turnDone);
    await before;
    let settled: Promise<unknown> = Promise.resolve();
    try {
      if (this.closed) return fail(RelayErrorCode.CLOSED, 'the barrier controller is closed');
      const budget = this.budgetMs + (relayCfg.kind === 'http' ? 0 : pulseMs);
      const r = await this.tryPulses(driver.relay, pulseMs, Date.now() + budget);
      settled = r.settled;
      if (r.result.ok) this.log.info({ sensor: sensor.id, pass: passId, attempts: r.result.attempts, relay: relayCfg.kind }, 'barrier opened');
      else this.log.warn({ sensor: sensor.id, pass: passId, attempts: r.result.attempts, code: r.result.error?.code, relay: relayCfg.kind }, `barrier not opened: ${r.result.error?.message}`);
      return r.result;
    } finally {
      // The next pulse on this relay waits (boundedly) for a driver that outlived the deadline.
      void settledOrGiveUp(settled).then(release);
    }
  }

  private async tryPulses(relay: Relay, pulseMs: number, deadline: number): Promise<{ result: OpenResult; settled: Promise<unknown> }> {
    let attempts = 0;
    let sentAt: number | null = null;
    let error: OpenFailure | undefined;
    let settled: Promise<unknown> = Promise.resolve();
    while (attempts < this.tries) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      attempts++;
      const ac = new AbortController();
      const timer = setTimeout(() => ac.abort(), remaining);
      const abort = abortRejection(ac.signal, 'relay');
      sentAt = Date.now();
      const pulse = relay.pulse(pulseMs, ac.signal);
      settled = pulse.catch(() => {});
      try {
        await Promise.race([pulse, abort.promise]);
        return { result: { ok: true, attempts, sent_at: sentAt }, settled };
      } catch (e) {
        error = e instanceof RelayError ? { code: e.code, message: e.message } : { code: RelayErrorCode.FAILED, message: String((e as Error)?.message ?? e) };
        if (e instanceof RelayError && e.permanent) break;
      } finally {
        clearTimeout(timer);
        abort.dispose();
      }
      if (attempts < this.tries) {
        const pause = Math.min(this.retryDelayMs, deadline - Date.now());
        if (pause > 0) await holdFor(pause);
      }
    }
    error ??= { code: RelayErrorCode.TIMEOUT, message: 'no time left for a pulse' };
    return { result: { ok: false, attempts, error, sent_at: sentAt }, settled };
  }

  /** The driver of `sensorId`, made anew (the old one closed after its queue) when its relay config changed. */
  private driverFor(sensorId: string, cfg: RelayConfig): Driver {
    const fingerprint = JSON.stringify(cfg);
    const have = this.drivers.get(sensorId);
    if (have && have.fingerprint === fingerprint) return have;
    const relay = (this.opts.relayFactory ?? createRelay)(cfg, {
      gpiosetPath: this.opts.gpiosetPath,
      onNotice: (n) => {
        if (n.kind === 'fault') this.log.warn({ sensor: sensorId, code: n.code }, `relay fault: ${n.message}`);
        else this.log.info({ sensor: sensorId }, `relay recovered: ${n.message}`);
        this.opts.onNotice?.(sensorId, n);
      },
    });
    const tail = have ? have.tail.then(() => have.relay.close()).catch(() => {}) : Promise.resolve();
    const driver: Driver = { fingerprint, relay, tail };
    this.drivers.set(sensorId, driver);
    return driver;
  }

  /** Closes the drivers of barriers no longer configured (after their queued pulses). */
  async retainOnly(sensorIds: Iterable<string>): Promise<void> {
    const keep = new Set(sensorIds);
    const gone = [...this.drivers].filter(([id]) => !keep.has(id));
    for (const [id] of gone) this.drivers.delete(id);
    await Promise.all(gone.map(([, d]) => d.tail.then(() => d.relay.close()).catch(() => {})));
  }

  /** Stops opening (later opens fail with RELAY_CLOSED), lets queued pulses end, releases every relay. */
  async close(): Promise<void> {
    this.closed = true;
    await this.retainOnly([]);
  }
}
