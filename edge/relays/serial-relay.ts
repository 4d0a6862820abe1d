/**
 * A USB relay board on a serial port (CH340/CP210x "LCUS" boards): 4 bytes per command,
 * `A0 <channel> <01 on | 00 off> <checksum = sum of the three & 0xFF>`.
 *
 * - The port is opened lazily, at the first pulse, and kept open; a port that goes away
 *   (unplugged: the read side sees the hang-up, or a write fails) is reported once through
 *   `onNotice` and reopened at the next pulse, which is reported as recovered.
 * - A pulse writes the on-bytes, waits the pulse, writes the off-bytes, each write drained to
 *   the device. Whatever happens after the on-bytes went out (an abort, the port going away
 *   mid-pulse), the off-bytes are sent when the port still takes them; when it does not, the
 *   next pulse, on a reopened port, sends the off-bytes first, so a relay left closed by a lost
 *   pulse is opened again as soon as the board is back.
 * - Every wait is bounded: opening and each write give up after `ioTimeoutMs` (a write to a
 *   port that closed under it may never call back).
 * - `serialport` (a native module) is loaded at the first pulse, not when this module loads.
 */
import type { SerialPort } from 'serialport';
import type { SerialRelayConfig } from '../../shared/schemas/sensor-config.js';
import { RelayError, RelayErrorCode, holdFor, type Relay, type RelayNotice } from './types.js';

/** serialport's messages start with "Error: " already. */
const why = (e: unknown) => String((e as Error)?.message ?? e).replace(/^Error: /, '');

/** The LCUS board's command for `channel` (1-8): on or off. */
export function lcusCommand(channel: number, on: boolean): Buffer {
  const state = on ? 0x01 : 0x00;
  return Buffer.from([0xa0, channel, state, (0xa0 + channel + state) & 0xff]);
}

export interface SerialRelayOptions {
  /** A port lost between or during pulses (`fault`), or reopened after that (`recovered`). */
  onNotice?: (n: RelayNotice) => void;
  /** Longest wait for an open or a write (default 1000 ms). */
  ioTimeoutMs?: number;
}

export class SerialRelay implements Relay {
  private port: SerialPort | null = null;
  private lostReported = false;
  /** On-bytes went out and no off-bytes were confirmed since. */
  private offPending = false;
  private readonly ioTimeoutMs: number;

  constructor(
    private readonly cfg: SerialRelayConfig,
    private readonly opts: SerialRelayOptions = {},
  ) {
    this.ioTimeoutMs = opts.ioTimeoutMs ?? 1000;
  }

  async pulse(durationMs: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw new RelayError(RelayErrorCode.TIMEOUT, `${this.cfg.port}: aborted before the pulse`);
    const port = await this.ensureOpen();
    const on = lcusCommand(this.cfg.channel, true);
    const off = lcusCommand(this.cfg.channel, false);
    if (this.offPending) {
      await this.write(port, off);
      this.offPending = false;
    }
    this.offPending = true;
    await this.write(port, on);
    let lostMidPulse = false;
    const lost = new AbortController();
    const onClose = () => {
      lostMidPulse = true;
      lost.abort();
    };
    port.once('close', onClose);
    const held = await holdFor(durationMs, signal ? AbortSignal.any([signal, lost.signal]) : lost.signal);
    port.off('close', onClose);
    if (lostMidPulse || !port.isOpen) throw new RelayError(RelayErrorCode.SERIAL_LOST, `${this.cfg.port}: went away mid-pulse (the relay is opened again when it is back)`);
    await this.write(port, off);
    this.offPending = false;
    if (!held) throw new RelayError(RelayErrorCode.TIMEOUT, `${this.cfg.port}: pulse aborted (deadline); off sent`);
  }

  private async ensureOpen(): Promise<SerialPort> {
    if (this.port?.isOpen) return this.port;
    this.port = null;
    const { SerialPort } = await import('serialport');
    const port = new SerialPort({ path: this.cfg.port, baudRate: this.cfg.baudrate, autoOpen: false });
    port.on('error', () => {}); // failures surface through the callbacks and 'close'
    try {
      await this.bounded('open', (cb) => port.open(cb), port);
    } catch (e) {
      this.reportLost(RelayErrorCode.SERIAL_UNAVAILABLE, why(e));
      throw new RelayError(RelayErrorCode.SERIAL_UNAVAILABLE, `${this.cfg.port}: cannot open: ${why(e)}`, { cause: e });
    }
    // Reading (and dropping what the board says) makes a hang-up visible between pulses.
    port.on('data', () => {});
    port.on('close', (err?: Error) => {
      if (this.port === port) this.port = null;
      if (err) this.reportLost(RelayErrorCode.SERIAL_LOST, why(err));
    });
    this.port = port;
    if (this.lostReported) {
      this.lostReported = false;
      this.opts.onNotice?.({ kind: 'recovered', message: `${this.cfg.port}: reopened` });
    }
    return port;
  }

  private reportLost(code: RelayErrorCode, why: string): void {
    if (this.lostReported) return;
    this.lostReported = true;
    this.opts.onNotice?.({ kind: 'fault', code, message: `${this.cfg.port}: ${code === RelayErrorCode.SERIAL_LOST ? 'went away' : 'cannot open'}: ${why}` });
  }

  private async write(port: SerialPort, bytes: Buffer): Promise<void> {
    try {
      if (!port.isOpen) throw new Error('port is closed');
      await this.bounded('write', (cb) => port.write(bytes, (e) => (e ? cb(e) : port.drain(cb))), port);
    } catch (e) {
      this.reportLost(RelayErrorCode.SERIAL_LOST, why(e));
      if (this.port === port) this.port = null;
      if (port.isOpen) port.close(() => {});
      throw new RelayError(RelayErrorCode.SERIAL_LOST, `${this.cfg.port}: write failed: ${why(e)}`, { cause: e });
    }
  }

  /** Runs a callback-style port call; rejects when it fails, the port closes, or it takes longer than ioTimeoutMs. */
  private bounded(what: string, call: (cb: (e?: Error | null) => void) => void, port: SerialPort): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const finish = (e?: Error | null) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        port.off('close', onClose);
        if (e) reject(e);
        else resolve();
      };
      const onClose = () => finish(new Error(`port closed during ${what}`));
      const timer = setTimeout(() => finish(new Error(`${what} took longer than ${this.ioTimeoutMs} ms`)), this.ioTimeoutMs);
      if (what !== 'open') port.once('close', onClose);
      call(finish);
    });
  }

  async close(): Promise<void> {
    const port = this.port;
    this.port = null;
    if (port?.isOpen) await new Promise<void>((r) => port.close(() => r()));
  }
}
