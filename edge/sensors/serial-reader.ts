/**
 * What every serial sensor reader shares: the port (opened and kept open, reopened with backoff:
 * serial-device.ts), a clock, and a bounded time-indexed buffer of its readings. A reader adds how
 * its bytes become readings (`feed`).
 */
import type { BackoffOptions } from '../capture/backoff.js';
import { ReadingBuffer, type ReadingBufferOptions, type Stamped } from './reading-buffer.js';
import { SerialDevice, type SensorNotice } from './serial-device.js';

export interface SerialReaderOptions<T> extends ReadingBufferOptions {
  onReading?: (r: T) => void;
  onNotice?: (n: SensorNotice) => void;
  /** Clock for reading stamps (default Date.now). */
  now?: () => number;
  /** Reopen pacing of the port (default 250 ms doubling to 10 s). */
  backoff?: BackoffOptions;
}

export abstract class SerialReader<T extends Stamped> {
  protected readonly buffer: ReadingBuffer<T>;
  protected readonly device: SerialDevice;
  protected readonly now: () => number;

  constructor(port: { sensor_port: string; baudrate: number }, protected readonly o: SerialReaderOptions<T> = {}) {
    this.buffer = new ReadingBuffer(o);
    this.now = o.now ?? Date.now;
    this.device = new SerialDevice({ path: port.sensor_port, baudRate: port.baudrate, onData: (c) => this.feed(c), onNotice: o.onNotice, backoff: o.backoff });
  }

  /** Takes bytes as the device sent them (the port calls this; tests may too). */
  abstract feed(chunk: Buffer): void;

  /** Opens the port (and keeps it open); returns at once. */
  start(): void {
    this.device.start();
  }

  /** Readings that arrived between `fromMs` and `toMs` (inclusive), oldest first. */
  readingsBetween(fromMs: number, toMs: number): T[] {
    return this.buffer.between(fromMs, toMs);
  }

  get isOpen(): boolean {
    return this.device.isOpen;
  }

  async stop(): Promise<void> {
    await this.device.stop();
  }
}
