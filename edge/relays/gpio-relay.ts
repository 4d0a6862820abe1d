/**
 * A relay on a GPIO line, driven by libgpiod 1.6's `gpioset` (Debian's `gpiod` package).
 *
 * - A pulse is one `gpioset --mode=time [--sec=S] --usec=U [--active-low] CHIP LINE=1`: the
 *   line is active for the pulse while gpioset holds it, then gpioset exits. The time is split
 *   into whole seconds and microseconds below one second (gpioset passes them to a sleep that
 *   may refuse a million microseconds or more).
 * - After every pulse, whatever happened to it, the line is driven inactive and released:
 *   `gpioset --mode=exit [--active-low] CHIP LINE=0`. Once gpioset exits the line's value is
 *   undefined (gpioset's own words) and may stay as last driven: without this a relay could
 *   stay closed and the barrier up.
 * - gpioset is spawned without a shell, its output ignored but for the end of stderr (the
 *   message of a failure). A gpioset that outlives the pulse by `graceMs`, or an aborted pulse,
 *   is ended with SIGTERM, then SIGKILL.
 * - A missing binary is `RELAY_GPIOSET_MISSING` (permanent: install `gpiod`); a non-zero exit
 *   is `RELAY_GPIO_FAILED` with gpioset's message (no such chip or line, line busy,
 *   permission on /dev/gpiochipN).
 */
import { spawn } from 'node:child_process';
import type { GpioRelayConfig } from '../../shared/schemas/sensor-config.js';
import { RelayError, RelayErrorCode, type Relay } from './types.js';

export interface GpioRelayOptions {
  /** The gpioset binary (default `gpioset` on PATH); tests point it at a recording script. */
  gpiosetPath?: string;
  /** How long gpioset may run past the pulse before it is killed (default 2000 ms). */
  graceMs?: number;
}

/** gpioset's arguments for one pulse of `ms` milliseconds. */
export function gpioPulseArgs(cfg: GpioRelayConfig, ms: number): string[] {
  const us = Math.round(ms * 1000);
  const sec = Math.floor(us / 1_000_000);
  const time = sec > 0 ? [`--sec=${sec}`, `--usec=${us % 1_000_000}`] : [`--usec=${us}`];
  return ['--mode=time', ...time, ...(cfg.active_low ? ['--active-low'] : []), cfg.chip, `${cfg.line}=1`];
}

/** gpioset's arguments that drive the line inactive and release it. */
export function gpioReleaseArgs(cfg: GpioRelayConfig): string[] {
  return ['--mode=exit', ...(cfg.active_low ? ['--active-low'] : []), cfg.chip, `${cfg.line}=0`];
}

const STDERR_KEEP = 2048;

export class GpioRelay implements Relay {
  private readonly bin: string;
  private readonly graceMs: number;

  constructor(
    private readonly cfg: GpioRelayConfig,
    opts: GpioRelayOptions = {},
  ) {
    this.bin = opts.gpiosetPath ?? 'gpioset';
    this.graceMs = opts.graceMs ?? 2000;
  }

  async pulse(durationMs: number, signal?: AbortSignal): Promise<void> {
    try {
      await this.run(gpioPulseArgs(this.cfg, durationMs), durationMs + this.graceMs, signal);
    } catch (e) {
      if (!(e instanceof RelayError) || e.code !== RelayErrorCode.GPIOSET_MISSING) await this.release();
      throw e;
    }
    await this.release();
  }

  /** Drives the line inactive and releases it; a failure here is not the pulse's (it was sent). */
  private async release(): Promise<void> {
    await this.run(gpioReleaseArgs(this.cfg), this.graceMs).catch(() => {});
  }

  private run(args: string[], limitMs: number, signal?: AbortSignal): Promise<void> {
    const where = `gpioset ${this.cfg.chip} line ${this.cfg.line}`;
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(new RelayError(RelayErrorCode.TIMEOUT, `${where}: aborted before it started`));
      const child = spawn(this.bin, args, { stdio: ['ignore', 'ignore', 'pipe'], shell: false });
      let stderr = '';
      let failure: RelayError | null = null;
      let killTimer: NodeJS.Timeout | undefined;
      const stop = (why: RelayError) => {
        failure ??= why;
        child.kill('SIGTERM');
        killTimer = setTimeout(() => child.kill('SIGKILL'), 500);
      };
      const limit = setTimeout(() => stop(new RelayError(RelayErrorCode.TIMEOUT, `${where}: gpioset still running after ${limitMs} ms`)), limitMs);
      const onAbort = () => stop(new RelayError(RelayErrorCode.TIMEOUT, `${where}: pulse aborted (deadline)`));
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = () => {
        clearTimeout(limit);
        clearTimeout(killTimer);
        signal?.removeEventListener('abort', onAbort);
      };
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (s: string) => (stderr = (stderr + s).slice(-STDERR_KEEP)));
      child.once('error', (e: NodeJS.ErrnoException) => {
        done();
        if (e.code === 'ENOENT' || e.code === 'EACCES') {
          reject(new RelayError(RelayErrorCode.GPIOSET_MISSING, `${this.bin} ${e.code === 'ENOENT' ? 'not found' : 'not executable'}: install libgpiod's tools (Debian: apt-get install gpiod)`, { permanent: true, cause: e }));
        } else reject(new RelayError(RelayErrorCode.GPIO_FAILED, `${where}: ${e.message}`, { cause: e }));
      });
      child.once('close', (code, sig) => {
        done();
        if (failure) return reject(failure);
        if (code === 0) return resolve();
        const msg = stderr.trim().split('\n').pop() || 'no message';
        reject(new RelayError(RelayErrorCode.GPIO_FAILED, `${where}: gpioset ${code !== null ? `exited with code ${code}` : `killed by ${sig}`}: ${msg}`));
      });
    });
  }

  async close(): Promise<void> {
    // Nothing held between pulses: each gpioset releases the line when it exits.
  }
}
