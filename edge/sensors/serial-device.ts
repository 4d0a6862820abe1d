/**
 * A serial device kept open: the port under a sensor reader (TPMS, RFID).
 *
 * Guarantees:
 * - `start()` opens the port and keeps it open: a port that cannot be opened, or that goes away
 *   (unplugged: the read sees the hang-up), is reopened after a backoff with jitter (250 ms
 *   doubling to 10 s by default), reset once the port opens again. Nothing here throws into
 *   the caller or leaves an unhandled error: every failure becomes a notice.
 * - Each outage is reported once, with a stable code (`SENSOR_PORT_UNAVAILABLE` when it never
 *   opened, `SENSOR_PORT_LOST` when an open port went away), and its end once (`recovered`).
 * - Bytes are handed to `onData` in arrival order; nothing is buffered here.
 * - `stop()` closes the port and cancels any reopen; after it, nothing is reported.
 * - `serialport` (a native module) is loaded at `start()`, not when this module loads.
 */
import type { SerialPort } from 'serialport';
import { backoffDelay, type BackoffOptions } from '../capture/backoff.js';

/** Stable codes of sensor faults. */
export const SensorErrorCode = {
  /** The port cannot be opened (absent, permission, busy). */
  PORT_UNAVAILABLE: 'SENSOR_PORT_UNAVAILABLE',
  /** An open port went away (unplugged, the device reset). */
  PORT_LOST: 'SENSOR_PORT_LOST',
} as const;
export type SensorErrorCode = (typeof SensorErrorCode)[keyof typeof SensorErrorCode];

export type SensorNotice =
  | { kind: 'fault'; code: SensorErrorCode; port: string; message: string }
  | { kind: 'recovered'; port: string; message: string };

export interface SerialDeviceOptions {
  path: string;
  baudRate: number;
  onData: (chunk: Buffer) => void;
  onNotice?: (n: SensorNotice) => void;
  /** Reopen pacing (default 250 ms doubling to 10 s, equal jitter). */
  backoff?: BackoffOptions;
}

export class SerialDevice {
  private port: SerialPort | null = null;
  private timer: NodeJS.Timeout | null = null;
  private failures = 0;
  private outage = false;
  private running = false;

  constructor(private readonly o: SerialDeviceOptions) {}

  /** Whether the port is open now. */
  get isOpen(): boolean {
    return this.port?.isOpen ?? false;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.openNow();
  }

  private async openNow(): Promise<void> {
    this.timer = null;
    if (!this.running) return;
    let port: SerialPort;
    try {
      const { SerialPort } = await import('serialport');
      port = new SerialPort({ path: this.o.path, baudRate: this.o.baudRate, autoOpen: false });
    } catch (e) {
      return this.failed(SensorErrorCode.PORT_UNAVAILABLE, (e as Error).message);
    }
    port.on('error', () => {}); // failures surface through open's callback and 'close'
    const err = await new Promise<Error | null>((r) => port.open((e) => r(e ?? null)));
    if (err) return this.failed(SensorErrorCode.PORT_UNAVAILABLE, err.message.replace(/^Error: /, ''));
    if (!this.running) {
      port.close(() => {});
      return;
    }
    this.port = port;
    this.failures = 0;
    if (this.outage) {
      this.outage = false;
      this.o.onNotice?.({ kind: 'recovered', port: this.o.path, message: `${this.o.path}: reopened` });
    }
    port.on('data', (chunk: Buffer) => this.o.onData(chunk));
    port.on('close', (e?: Error) => {
      if (this.port !== port) return;
      this.port = null;
      this.failed(SensorErrorCode.PORT_LOST, e?.message ?? 'closed');
    });
  }

  private failed(code: SensorErrorCode, why: string): void {
    if (!this.running) return;
    if (!this.outage) {
      this.outage = true;
      this.o.onNotice?.({ kind: 'fault', code, port: this.o.path, message: `${this.o.path}: ${code === SensorErrorCode.PORT_LOST ? 'went away' : 'cannot open'}: ${why}` });
    }
    const delay = backoffDelay(this.failures++, this.o.backoff ?? { initialMs: 250, maxMs: 10_000, jitter: 'equal' });
    this.timer = setTimeout(() => void this.openNow(), delay);
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const port = this.port;
    this.port = null;
    if (port?.isOpen) await new Promise<void>((r) => port.close(() => r()));
  }
}
