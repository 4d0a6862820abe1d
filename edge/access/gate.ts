/**
 * The gate: what this box does about each confirmed read, decided here and never waiting on the
 * cloud (issue 10).
 *
 * Guarantees:
 * - Every read in a zone of its camera (or on a camera without zones) gets one `Decision`: the
 *   synced access lists (edge/access/list-sync.ts) and the zone's own `allow`/`deny` arrays go
 *   through one matcher (shared/access), so a plate compares the same way everywhere
 *   (`AB–123` is `AB123`). Deny beats allow; watch never opens and always alerts.
 * - `open` only where a barrier can act: a barrier sensor of this camera (and zone, when it names
 *   one) that opens for the pass's direction, or, where no barrier sensor serves the camera, an
 *   enter/exit/both zone (the decision then tells the subscribers, who drive their own barrier). A barrier with `require_plate: false`
 *   is not driven by reads at all.
 * - A denied, watched or unknown plate sends nothing to a barrier. An allowed pass pulses each of
 *   its barriers at most once (the pass id), and a barrier that fails after its retries turns
 *   into an alert (`onRelayFailure`), never a hang: the relay controller has a deadline.
 * - `latency_ms` = from the first frame in which the plate was seen to the relay command (or to
 *   the decision when no relay acts), observed in `anpr_barrier_decision_seconds`.
 * - RFID tags and TPMS readings of the camera's sensors in the pass's window (the plate first
 *   seen minus `SENSOR_WINDOW_BEFORE_MS`, to the decision) join the decision (second factor) and
 *   the event (`tpms_status`).
 */
import type { Logger } from '../../shared/log.js';
import { silentLogger } from '../../shared/log.js';
import { ListIndex, decide, type AccessMatch, type AccessRead } from '../../shared/access/index.js';
import type { Decision, ListSnapshot } from '../../shared/schemas/lists.js';
import { normalizePlate } from '../../shared/plate/normalize.js';
import type { ConfirmedRead } from '../contracts.js';
import type { EdgeConfig, EdgeZone } from '../config/schema.js';
import type { Metrics } from '../daemon/metrics.js';
import { directionOf, type PassDirection } from '../decide/direction.js';
import { ZoneMap } from '../decide/zones.js';
import { ListSync } from './list-sync.js';
import { SensorSet, type BarrierTarget, type RelayOutcome } from './sensor-set.js';
import type { TpmsStatusBody } from './sensor-set.js';

/** How long before the plate was first seen a sensor reading still belongs to its pass. */
export const SENSOR_WINDOW_BEFORE_MS = 10_000;

/** Buckets of `anpr_barrier_decision_seconds`. */
const LATENCY_BUCKETS_S = [0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10];

export interface Pass {
  zone: EdgeZone | null;
  direction: PassDirection | null;
  decision: Decision;
  /** The barriers this pass opens (empty unless the action is `open`). */
  barriers: BarrierTarget[];
  tpms: TpmsStatusBody | null;
}

export interface GateOptions {
  config: EdgeConfig;
  metrics: Metrics;
  logger?: Logger;
  instanceId?: string;
  /** A barrier that failed after its retries: the daemon records an alert event. */
  onRelayFailure?: (pass: Pass, read: ConfirmedRead, eventId: string, outcome: RelayOutcome) => void;
}

const GATE_ZONES = new Set(['enter', 'exit', 'both']);

export class Gate {
  readonly lists: ListSync;
  private readonly zones = new ZoneMap();
  private readonly sensors: SensorSet;
  private readonly log: Logger;
  private index = new ListIndex([]);
  private zoneIndexes = new Map<string, ListIndex>();
  private timezone: string;

  constructor(private readonly o: GateOptions) {
    this.log = (o.logger ?? silentLogger).child({ component: 'gate' });
    this.timezone = o.config.timezone;
    this.sensors = new SensorSet({ logger: this.log, metrics: o.metrics });
    this.lists = new ListSync({
      dataDir: o.config.data_dir,
      cloud: o.config.cloud,
      instanceId: o.instanceId,
      logger: this.log,
      onChange: (lists) => this.setLists(lists),
    });
  }

  /** Lists kept on disk: the gate decides with them until the cloud says otherwise. */
  start(): void {
    this.lists.loadCached();
  }

  /** A new config in force: zones, their own lists, sensors (barriers, RFID and TPMS readers). */
  update(cfg: EdgeConfig): void {
    this.timezone = cfg.timezone;
    this.zones.update(cfg.zones);
    const zi = new Map<string, ListIndex>();
    for (const z of cfg.zones) if (z.allow.length || z.deny.length) zi.set(z.id, new ListIndex(zoneLists(z)));
    this.zoneIndexes = zi;
    this.sensors.update(cfg.sensors);
  }

  private setLists(lists: ListSnapshot[]): void {
    try {
      this.index = new ListIndex(lists);
    } catch (e) {
      // The lists passed the shared schema; a list the matcher still refuses keeps the index in force.
      this.log.error({ err: (e as Error).message }, 'access lists could not be indexed; the lists in force keep deciding');
    }
  }

  /** The decision for one confirmed read; null when the plate lies outside every zone of its camera. */
  decide(read: ConfirmedRead, now = Date.now()): Pass | null {
    const hit = this.zones.locate(read.cameraId, read.plateBox);
    if ('outside' in hit) return null;
    const zone = hit.zone;
    const direction = zone ? directionOf(zone, read.path) : null;
    const from = read.firstSeenTs - SENSOR_WINDOW_BEFORE_MS;
    const rfid = this.sensors.rfidTags(read.cameraId, zone?.id ?? null, from, now);
    const tpms = this.sensors.tpms(read.cameraId, zone?.id ?? null, from, now);
    const ar: AccessRead = { plate: read.plateText, at: new Date(now), cameraId: read.cameraId, direction, rfid, siteTimeZone: this.timezone };
    const matches: AccessMatch[] = this.index.lookup(ar);
    const own = zone ? this.zoneIndexes.get(zone.id) : undefined;
    if (own) matches.push(...own.lookup(ar));
    const barriers = this.sensors.barriersFor(read.cameraId, zone?.id ?? null, direction);
    // A camera whose barriers all refuse this direction does not "open" on paper either.
    const canOpen = barriers.length > 0 || (!this.sensors.hasBarrier(read.cameraId, zone?.id ?? null) && !!zone && GATE_ZONES.has(zone.type));
    const d = decide(matches, { canOpen, rfid });
    const decision: Decision = { ...d, direction, latency_ms: null };
    this.o.metrics.inc('anpr_access_decisions_total', 'Confirmed reads decided, by action', { camera: read.cameraId, action: decision.action });
    if (decision.alert) this.o.metrics.inc('anpr_access_alerts_total', 'Decisions that raised an alert (watch list, RFID mismatch)', { camera: read.cameraId });
    return { zone, direction, decision, barriers: decision.action === 'open' ? barriers : [], tpms };
  }

  /**
   * Sets the pass's `latency_ms`: its barrier command (or, with none, its decision) is issued at
   * `now`. The daemon stamps, builds and stores the event, then calls `command` in the same tick.
   */
  stamp(pass: Pass, read: ConfirmedRead, now = Date.now()): number {
    // A car in view for more than an hour (a parking camera) reads as an hour: the schema's bound.
    const latencyMs = Math.min(3_600_000, Math.max(0, now - read.firstSeenTs));
    pass.decision.latency_ms = latencyMs;
    if (pass.barriers.length) this.o.metrics.observe('anpr_barrier_decision_seconds', 'From the plate first visible to the barrier command, seconds', { camera: read.cameraId }, latencyMs / 1000, LATENCY_BUCKETS_S);
    return latencyMs;
  }

  /** Commands the pass's barriers (none unless it opens), each at most once per `passId`. */
  command(pass: Pass, read: ConfirmedRead, passId: string): void {
    for (const b of pass.barriers) {
      void this.sensors.open(b, passId).then((outcome) => {
        this.o.metrics.inc('anpr_barrier_commands_total', 'Barrier commands by result', { sensor: b.id, result: outcome.ok ? 'ok' : 'failed' });
        if (outcome.ok) return;
        this.log.error({ sensor: b.id, camera: read.cameraId, plate: read.plateText, error: outcome.error, attempts: outcome.attempts }, 'barrier did not open');
        this.o.onRelayFailure?.(pass, read, passId, outcome);
      });
    }
  }

  async close(): Promise<void> {
    await this.sensors.close();
  }
}

/** A zone's own `allow`/`deny` arrays as lists of that zone's camera, matched exactly. */
function zoneLists(z: EdgeZone): ListSnapshot[] {
  const now = new Date(0).toISOString();
  const list = (type: 'allow' | 'deny', plates: string[]): ListSnapshot => ({
    id: `zone.${z.id}.${type}`.slice(0, 128),
    name: `${z.name ?? z.id} ${type}`,
    type,
    edge_id: null,
    camera_ids: [z.camera_id],
    direction: 'any',
    match: { mode: 'exact', confusable_cost: 0, max_distance: 0 },
    timezone: null,
    enabled: true,
    entries_count: plates.length,
    version: 'zone',
    created_at: now,
    updated_at: now,
    entries: plates.map(normalizePlate).filter(Boolean).map((plate) => ({ plate, label: null, valid_from: null, valid_until: null, schedule: [], rfid: null })),
  });
  return [...(z.allow.length ? [list('allow', z.allow)] : []), ...(z.deny.length ? [list('deny', z.deny)] : [])];
}
