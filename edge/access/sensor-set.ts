/**
 * The sensors of the config in force, running: barriers (edge/relays BarrierController) and the
 * serial TPMS and RFID readers (edge/sensors), each scoped to its camera and zone.
 *
 * - A sensor is (re)started only when its own config changed; one removed is closed. A sensor
 *   whose config does not parse is left out and reported once (the cloud's schema refuses such
 *   configs; an edge file may still hold one).
 * - A sensor with no camera serves every camera; with no zone, every zone of its camera.
 * - Readers that lose their device report it and reopen with backoff (edge/sensors); nothing
 *   here waits on a device.
 */
import type { Logger } from '../../shared/log.js';
import { BarrierConfig, RfidConfig, TpmsConfig, barrierOpensFor } from '../../shared/schemas/sensor-config.js';
import type { TpmsStatus } from '../../shared/schemas/event.js';
import { BarrierController, type OpenResult } from '../relays/index.js';
import { RfidReader, TpmsReader, type SensorNotice } from '../sensors/index.js';
import type { Metrics } from '../daemon/metrics.js';
import type { z } from '../../shared/schemas/common.js';

export type TpmsStatusBody = z.output<typeof TpmsStatus>;
export type RelayOutcome = OpenResult;

export interface BarrierTarget {
  id: string;
  cameraId: string | null;
  zoneId: string | null;
  config: BarrierConfig;
  /** The sensor as configured (the controller reads its relay from it). */
  raw: { id: string; type: 'barrier'; config: unknown };
}

interface Scoped {
  cameraId: string | null;
  zoneId: string | null;
}

interface Running<R> extends Scoped {
  key: string;
  reader: R;
}

const str = (v: unknown) => (typeof v === 'string' ? v : null);
const serves = (s: Scoped, cameraId: string, zoneId: string | null) => (!s.cameraId || s.cameraId === cameraId) && (!s.zoneId || s.zoneId === zoneId);

export class SensorSet {
  private readonly controller: BarrierController;
  private barriers: BarrierTarget[] = [];
  private readonly tpmsReaders = new Map<string, Running<TpmsReader>>();
  private readonly rfidReaders = new Map<string, Running<RfidReader>>();
  private readonly refused = new Set<string>();

  constructor(private readonly o: { logger: Logger; metrics: Metrics }) {
    this.controller = new BarrierController({
      log: o.logger,
      onNotice: (sensor, n) => o.metrics.inc('anpr_sensor_notices_total', 'Relay and sensor devices lost or back', { sensor, kind: n.kind }),
    });
  }

  update(sensors: Array<Record<string, unknown>>): void {
    const barriers: BarrierTarget[] = [];
    const seen = new Set<string>();
    for (const s of sensors) {
      const id = str(s.id) ?? str(s.name);
      if (!id) continue;
      const scope = { cameraId: str(s.camera_id), zoneId: str(s.zone_id) };
      const key = JSON.stringify([s.type, s.config ?? {}, scope]);
      if (s.type === 'barrier') {
        const r = BarrierConfig.safeParse(s.config ?? {});
        if (r.success) barriers.push({ id, ...scope, config: r.data, raw: { id, type: 'barrier', config: s.config ?? {} } });
        else this.refuse(id, key, r.error.issues);
      } else if (s.type === 'tpms' || s.type === 'rfid') {
        seen.add(`${s.type}:${id}`);
        this.reader(s.type, id, key, scope, s.config ?? {});
      }
    }
    this.barriers = barriers;
    for (const [id, r] of this.tpmsReaders) if (!seen.has(`tpms:${id}`)) (void r.reader.stop(), this.tpmsReaders.delete(id));
    for (const [id, r] of this.rfidReaders) if (!seen.has(`rfid:${id}`)) (void r.reader.stop(), this.rfidReaders.delete(id));
  }

  private refuse(id: string, key: string, issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>): void {
    if (this.refused.has(key)) return;
    this.refused.add(key);
    this.o.logger.error({ sensor: id, errors: issues.map((i) => `config.${i.path.map(String).join('.')}: ${i.message}`) }, 'sensor config invalid: the sensor is not run');
  }

  private reader(type: 'tpms' | 'rfid', id: string, key: string, scope: Scoped, config: unknown): void {
    const map = (type === 'tpms' ? this.tpmsReaders : this.rfidReaders) as Map<string, Running<TpmsReader | RfidReader>>;
    const have = map.get(id);
    if (have?.key === key) return;
    if (have) void have.reader.stop();
    map.delete(id);
    const onNotice = (n: SensorNotice) => {
      this.o.metrics.inc('anpr_sensor_notices_total', 'Relay and sensor devices lost or back', { sensor: id, kind: n.kind });
      this.o.logger[n.kind === 'fault' ? 'warn' : 'info']({ sensor: id, notice: n }, `sensor ${id}: ${n.message}`);
    };
    const parsed = (type === 'tpms' ? TpmsConfig : RfidConfig).safeParse(config);
    if (!parsed.success) return this.refuse(id, key, parsed.error.issues);
    const reader = type === 'tpms' ? new TpmsReader(parsed.data as TpmsConfig, { onNotice }) : new RfidReader(parsed.data as RfidConfig, { onNotice });
    reader.start();
    map.set(id, { key, ...scope, reader });
  }

  /** The barriers a pass on `cameraId` / `zoneId` going `direction` may open (driven by reads). */
  barriersFor(cameraId: string, zoneId: string | null, direction: 'in' | 'out' | null): BarrierTarget[] {
    return this.barriers.filter((b) => serves(b, cameraId, zoneId) && b.config.require_plate && b.config.relay && barrierOpensFor(b.config, direction));
  }

  /** Whether any barrier sensor serves this camera and zone (whatever its directions). */
  hasBarrier(cameraId: string, zoneId: string | null): boolean {
    return this.barriers.some((b) => serves(b, cameraId, zoneId));
  }

  /** Opens one barrier for one pass: at most once per pass, never rejects, bounded in time. */
  open(b: BarrierTarget, passId: string): Promise<RelayOutcome> {
    return this.controller.open(passId, b.raw);
  }

  /** RFID tags the camera's readers saw between `from` and `to` (ms). */
  rfidTags(cameraId: string, zoneId: string | null, from: number, to: number): string[] {
    const tags = new Set<string>();
    for (const r of this.rfidReaders.values()) if (serves(r, cameraId, zoneId)) for (const x of r.reader.readingsBetween(from, to)) tags.add(x.tag);
    return [...tags];
  }

  /** The TPMS status for a pass: a fault in the window first, else the newest reading; null with none. */
  tpms(cameraId: string, zoneId: string | null, from: number, to: number): TpmsStatusBody | null {
    let pick: TpmsStatusBody | null = null;
    for (const r of this.tpmsReaders.values()) {
      if (!serves(r, cameraId, zoneId)) continue;
      const s = r.reader.statusBetween(from, to);
      if (s && (!pick || (pick.status === 'ok' && s.status !== 'ok'))) pick = s;
    }
    return pick;
  }

  async close(): Promise<void> {
    await Promise.all([...this.tpmsReaders.values(), ...this.rfidReaders.values()].map((r) => r.reader.stop()));
    this.tpmsReaders.clear();
    this.rfidReaders.clear();
    await this.controller.close();
  }
}
