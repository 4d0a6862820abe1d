/**
 * A TPMS (tyre pressure) reader on a serial port (sensor type `tpms`).
 *
 * - The device sends one reading per line, either JSON `{"sensors":4,"pressure":2.1,
 *   "temperature":42}` (pressure required) or CSV `pressure,temperature[,sensors]`. Pressure
 *   in bar (0-100), temperature in °C (-100-300), sensors a count (0-64): the bounds of the
 *   event's `tpms_status`. Any other line is dropped and counted (`stats.bad`), never thrown.
 * - Each reading is judged against the sensor's thresholds: `low_pressure` below
 *   `pressure_min`, `high_pressure` above `pressure_max`, `high_temperature` above
 *   `temperature_max`, else `ok` (the first that applies, in that order).
 * - Readings are kept for a short while, time-indexed (edge/sensors/reading-buffer.ts):
 *   `readingsBetween(from, to)` is what the sensor said during a pass, `statusBetween` the one
 *   reading to attach to its event: the newest fault of the window, else its newest reading.
 * - The port is supervised by SerialDevice: a device that disappears is reported
 *   (`SENSOR_PORT_LOST`) and reopened with backoff; the reader never throws.
 */
import type { TpmsConfig, TpmsThreshold } from '../../shared/schemas/sensor-config.js';
import { LineSplitter } from './line-splitter.js';
import { SerialReader, type SerialReaderOptions } from './serial-reader.js';

export const TPMS_STATES = ['ok', 'low_pressure', 'high_pressure', 'high_temperature'] as const;
export type TpmsState = (typeof TPMS_STATES)[number];

export interface TpmsValues {
  pressure: number;
  temperature?: number;
  sensors?: number;
}

export interface TpmsReading extends TpmsValues {
  at: number;
  status: TpmsState;
}

const inRange = (v: unknown, min: number, max: number): v is number => typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max;
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** One line of a TPMS device, or null when it is not a valid reading. */
export function parseTpmsLine(line: string): TpmsValues | null {
  const text = line.trim();
  let pressure: unknown;
  let temperature: unknown;
  let sensors: unknown;
  if (text.startsWith('{')) {
    let o: unknown;
    try {
      o = JSON.parse(text);
    } catch {
      return null;
    }
    if (typeof o !== 'object' || o === null || Array.isArray(o)) return null;
    ({ pressure, temperature, sensors } = o as Record<string, unknown>);
  } else {
    const f = text.split(',').map((s) => s.trim());
    if (f.length < 2 || f.length > 3 || !f.every((s) => NUMBER.test(s))) return null;
    [pressure, temperature, sensors] = f.map(Number);
  }
  if (!inRange(pressure, 0, 100)) return null;
  if (temperature !== undefined && temperature !== null && !inRange(temperature, -100, 300)) return null;
  if (sensors !== undefined && sensors !== null && !(inRange(sensors, 0, 64) && Number.isInteger(sensors))) return null;
  const v: TpmsValues = { pressure };
  if (typeof temperature === 'number') v.temperature = temperature;
  if (typeof sensors === 'number') v.sensors = sensors;
  return v;
}

/** The state of a reading against the sensor's thresholds. */
export function tpmsState(v: TpmsValues, t: TpmsThreshold): TpmsState {
  if (v.pressure < t.pressure_min) return 'low_pressure';
  if (v.pressure > t.pressure_max) return 'high_pressure';
  if (v.temperature !== undefined && v.temperature > t.temperature_max) return 'high_temperature';
  return 'ok';
}

/** A reading in the shape of the event's `tpms_status` (shared/schemas/event.ts TpmsStatus). */
export function toTpmsStatus(r: TpmsReading): { sensors?: number; temperature?: number; pressure: number; status: TpmsState } {
  const s: { sensors?: number; temperature?: number; pressure: number; status: TpmsState } = { pressure: r.pressure, status: r.status };
  if (r.sensors !== undefined) s.sensors = r.sensors;
  if (r.temperature !== undefined) s.temperature = r.temperature;
  return s;
}

export type TpmsReaderOptions = SerialReaderOptions<TpmsReading>;

export class TpmsReader extends SerialReader<TpmsReading> {
  private readonly lines = new LineSplitter();
  private bad = 0;
  private good = 0;

  constructor(
    private readonly cfg: TpmsConfig,
    o: TpmsReaderOptions = {},
  ) {
    super(cfg, o);
  }

  feed(chunk: Buffer): void {
    for (const line of this.lines.push(chunk)) {
      const v = parseTpmsLine(line);
      if (!v) {
        this.bad++;
        continue;
      }
      this.good++;
      const r = this.buffer.push({ ...v, at: this.now(), status: tpmsState(v, this.cfg.threshold) });
      this.o.onReading?.(r);
    }
  }

  /** The reading for a pass's event: the window's newest fault, else its newest reading; null when it has none. */
  statusBetween(fromMs: number, toMs: number): ReturnType<typeof toTpmsStatus> | null {
    let pick: TpmsReading | null = null;
    for (const r of this.readingsBetween(fromMs, toMs)) if (!pick || r.status !== 'ok' || pick.status === 'ok') pick = r;
    return pick ? toTpmsStatus(pick) : null;
  }

  /** Lines read as readings, and lines dropped (unparseable, out of bounds or too long). */
  get stats(): { readings: number; bad: number } {
    return { readings: this.good, bad: this.bad + this.lines.overflows };
  }
}
