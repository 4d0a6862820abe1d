/**
 * The edges' health as the cloud sees it: each edge's last accepted heartbeat, kept in memory
 * (loaded from the `edges` table at start), and its status.
 *
 * Guarantees:
 * - Status: `offline` when no heartbeat was accepted for OFFLINE_AFTER_INTERVALS × the edge's
 *   own `interval_s` (a never-heard edge is offline); else `degraded` when the edge says so, a
 *   camera assigned to it and enabled is not `running`, its config failed to apply or some
 *   items were refused; else `online`. A read (GET /edges) sees the same status the timer does:
 *   it runs the sweep first.
 * - Each change of status is announced once on /events/stream (`edge_status`, to users and to
 *   that edge's own keys) and counted in /metrics — on a heartbeat, or by the timer (every
 *   TICK_MS, unref'd) when an edge falls silent.
 * - A refused heartbeat (clock skew, a second installation) changes nothing, in memory or on disk.
 * - Heartbeats reach the database throttled: the first one, any change of status, installation,
 *   config version, camera states or access-list versions at once, else at most once per PERSIST_EVERY_MS per edge;
 *   the last one is flushed when the edge goes offline and when the cloud stops. 200 edges every
 *   5 s is then a handful of row writes a minute, not 40 a second.
 * - A second installation of an edge id (another `instance_id`) is refused while the one heard
 *   last is not offline; once it is offline, the new one takes over (a replaced box).
 */
import type { Logger } from '../../shared/log.js';
import { AppError } from '../../shared/errors.js';
import {
  DEFAULT_HEARTBEAT_S,
  EDGE_STATUSES,
  MAX_CLOCK_SKEW_S,
  OFFLINE_AFTER_INTERVALS,
  type EdgeHeartbeat,
  type EdgeStatusMessage,
  type EdgeStatusName,
} from '../../shared/schemas/edge.js';
import type { EdgeRecord } from './edges-store.js';
import type { ConfigStore, EdgesStore } from '../store/contracts.js';
import type { StreamHub } from '../stream/hub.js';
import type { CloudMetrics } from '../metrics/cloud-metrics.js';

/** How often silent edges are looked for. */
export const TICK_MS = 250;
/** A heartbeat that changes nothing reaches the database at most this often per edge. */
export const PERSIST_EVERY_MS = 60_000;

/** What the cloud knows of one edge's health. */
export interface EdgeHealthState {
  /** Cloud clock (ms) of the last accepted heartbeat; null = never heard. */
  lastSeenMs: number | null;
  instanceId: string | null;
  heartbeat: EdgeHeartbeat | null;
  clockSkewS: number | null;
  status: EdgeStatusName;
  problems: string[];
}

interface Entry extends EdgeHealthState {
  id: string;
  /** The verdict of the last heartbeat (what the status is while it is not offline). */
  heard: Exclude<EdgeStatusName, 'offline'>;
  heardProblems: string[];
  /** When the entry was last written to the database, and what it said then. */
  persistedAt: number;
  persistedSig: string;
  /** Holds a heartbeat the database has not got yet. */
  dirty: boolean;
}

export interface EdgeHealthDeps {
  edges: EdgesStore;
  config: ConfigStore;
  hub: StreamHub;
  metrics: CloudMetrics;
  log: Logger;
  now?: () => number;
}

const intervalMs = (e: Pick<EdgeHealthState, 'heartbeat'>) => (e.heartbeat?.interval_s ?? DEFAULT_HEARTBEAT_S) * 1000;

export class EdgeHealth {
  private readonly entries = new Map<string, Entry>();
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  private readonly log: Logger;

  constructor(private readonly deps: EdgeHealthDeps) {
    this.now = deps.now ?? Date.now;
    this.log = deps.log.child({ component: 'edge-health' });
  }

  /** Loads the edges' last heartbeats from the database and starts the timer. */
  async start(): Promise<void> {
    const records = await this.deps.edges.list();
    const now = this.now();
    for (const r of records) if (!this.entries.has(r.id)) this.entries.set(r.id, this.fromRecord(r, now));
    this.timer ??= setInterval(() => this.sweep(), TICK_MS).unref();
  }

  /** Stops the timer and writes the heartbeats not yet written. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    try {
      for (const e of this.entries.values()) if (e.dirty) await this.persist(e, this.now());
    } catch (err) {
      this.log.warn({ err }, 'could not write the last heartbeats at stop');
    }
  }

  /**
   * The refusal message when `instanceId` is another installation than the one heard last on
   * `edgeId` and that one is not offline; else null (also when the edge sends no instance id).
   */
  instanceConflict(edgeId: string, instanceId: string | undefined): string | null {
    if (!instanceId) return null;
    const e = this.entries.get(edgeId);
    if (!e || !e.instanceId || e.instanceId === instanceId) return null;
    if (this.statusAt(e, this.now()) === 'offline') return null;
    return (
      `Edge id '${edgeId}' is in use by another box (installation ${e.instanceId}, last heard ${new Date(e.lastSeenMs!).toISOString()}): ` +
      `give this box its own edge id and API key (anpr apikey create NEW_EDGE_ID)`
    );
  }

  /**
   * Accepts a heartbeat of `edgeId` (a registered edge; the caller checked the key) or throws the
   * refusal (400 CLOCK_SKEW, 409 EDGE_ID_IN_USE) having changed nothing. Returns the state after.
   */
  async heartbeat(edgeId: string, hb: EdgeHeartbeat): Promise<EdgeHealthState> {
    const now = this.now();
    const skewS = (Date.parse(hb.sent_at) - now) / 1000;
    if (Math.abs(skewS) > MAX_CLOCK_SKEW_S) {
      this.deps.metrics.heartbeat('clock_skew');
      const s = Math.round(Math.abs(skewS));
      throw new AppError(
        'CLOCK_SKEW',
        `The edge's clock is ${s} s ${skewS > 0 ? 'ahead of' : 'behind'} the cloud's (at most ${MAX_CLOCK_SKEW_S} s allowed): fix the edge's time (NTP)`,
        { extra: { clock_skew_s: Math.round(skewS) } },
      );
    }
    // What needs the database is read first; the checks and the change of state below run with
    // no await between them, so two heartbeats of one edge never interleave half-way.
    const assigned = await this.assigned(edgeId);
    const e = await this.entry(edgeId, now);
    const conflict = this.instanceConflict(edgeId, hb.instance_id);
    if (conflict) {
      this.deps.metrics.heartbeat('edge_id_in_use');
      throw new AppError('EDGE_ID_IN_USE', conflict);
    }
    const { heard, problems } = this.verdict(hb, assigned);
    e.lastSeenMs = now;
    e.instanceId = hb.instance_id;
    e.heartbeat = hb;
    e.clockSkewS = Math.round(skewS * 10) / 10;
    e.heard = heard;
    e.heardProblems = problems;
    e.dirty = true;
    this.deps.metrics.heartbeat('accepted');
    this.settle(e, now);
    const sig = this.signature(e);
    const view = this.view(e);
    if (sig !== e.persistedSig || now - e.persistedAt >= PERSIST_EVERY_MS) await this.persist(e, now);
    return view;
  }

  /** The health of `edgeId` now (offline and never heard when unknown). */
  state(edgeId: string): EdgeHealthState {
    const now = this.now();
    this.sweep(now);
    const e = this.entries.get(edgeId);
    return e ? this.view(e) : { lastSeenMs: null, instanceId: null, heartbeat: null, clockSkewS: null, status: 'offline', problems: [] };
  }

  /** Forgets a deleted edge (no announcement). */
  forget(edgeId: string): void {
    this.entries.delete(edgeId);
  }

  /** Edges in each status, for /metrics; registered edges never heard count as offline. */
  async counts(): Promise<Record<EdgeStatusName, number>> {
    const registered = await this.deps.edges.count();
    this.sweep();
    const out = Object.fromEntries(EDGE_STATUSES.map((s) => [s, 0])) as Record<EdgeStatusName, number>;
    let known = 0;
    for (const e of this.entries.values()) {
      out[e.status]++;
      known++;
    }
    // Edges registered by another process (anpr apikey create) and never heard here.
    out.offline += Math.max(0, registered - known);
    return out;
  }

  /** Turns edges unheard for OFFLINE_AFTER_INTERVALS intervals offline, announcing each once. */
  sweep(now = this.now()): void {
    for (const e of this.entries.values()) if (e.status !== 'offline') this.settle(e, now);
  }

  private statusAt(e: Entry, now: number): EdgeStatusName {
    if (e.lastSeenMs === null || now - e.lastSeenMs > OFFLINE_AFTER_INTERVALS * intervalMs(e)) return 'offline';
    return e.heard;
  }

  /** Brings `e.status` to what it is at `now`, announcing a change. */
  private settle(e: Entry, now: number): void {
    const status = this.statusAt(e, now);
    const problems = status === 'offline' ? this.offlineProblems(e) : e.heardProblems;
    const previous = e.status;
    e.problems = problems;
    if (status === previous) return;
    e.status = status;
    const msg: EdgeStatusMessage = { type: 'edge_status', data: { id: e.id, status, previous, at: new Date(now).toISOString(), problems } };
    this.deps.hub.broadcast(msg, e.id);
    this.deps.metrics.statusChanged(status);
    this.log.info({ edge: e.id, status, previous, problems }, 'edge status changed');
    if (status === 'offline' && e.dirty) {
      this.persist(e, now).catch((err: unknown) => this.log.warn({ edge: e.id, err }, 'could not write the last heartbeat'));
    }
  }

  private offlineProblems(e: Entry): string[] {
    if (e.lastSeenMs === null) return ['never heard'];
    return [`no heartbeat since ${new Date(e.lastSeenMs).toISOString()} (${OFFLINE_AFTER_INTERVALS} intervals of ${intervalMs(e) / 1000} s)`];
  }

  /** The ids of the enabled cameras assigned to `edgeId`, read again only when the config changed. */
  private assignedCache: { generation: number; byEdge: Map<string, string[]> } = { generation: -1, byEdge: new Map() };
  private async assigned(edgeId: string): Promise<string[]> {
    const generation = await this.deps.config.generation();
    if (generation !== this.assignedCache.generation) this.assignedCache = { generation, byEdge: new Map() };
    let ids = this.assignedCache.byEdge.get(edgeId);
    if (!ids) {
      ids = (await this.deps.config.list('cameras', { edge_id: edgeId, enabled: true }, 0, 10_000)).items.map((c) => c.id);
      if (this.assignedCache.generation === generation) this.assignedCache.byEdge.set(edgeId, ids);
    }
    return ids;
  }

  /**
   * online or degraded, and why, from a heartbeat and the cameras assigned to the edge. The edge's
   * own words come first; the cloud adds what only it knows (an assigned camera the edge does not
   * report) and, for an edge that says nothing, what its report shows (a camera not running, a
   * config error or refused item), so the same problem is never listed twice.
   */
  private verdict(hb: EdgeHeartbeat, assigned: string[]): { heard: 'online' | 'degraded'; problems: string[] } {
    const problems = [...hb.problems];
    const explained = hb.problems.length > 0;
    const reported = new Map(hb.cameras.map((c) => [c.id, c]));
    for (const id of assigned) {
      const c = reported.get(id);
      if (!c) problems.push(`camera ${id}: assigned but not reported by the edge`);
      else if (c.state !== 'running' && !explained) problems.push(`camera ${id}: ${c.state}${c.error ? ` (${c.error})` : ''}`);
    }
    if (!explained) {
      for (const c of hb.cameras) {
        if (c.state === 'invalid' && !assigned.includes(c.id)) problems.push(`camera ${c.id}: invalid${c.error ? ` (${c.error})` : ''}`);
      }
      if (hb.config.error) problems.push(`config: ${hb.config.error}`);
      for (const p of hb.config.problems) problems.push(`${p.kind} ${p.id}: ${p.dropped === 'item' ? 'not run' : 'run without some settings'} (${p.errors.join('; ')})`);
    }
    const notRunning = hb.cameras.some((c) => assigned.includes(c.id) && c.state !== 'running');
    const degraded = hb.health === 'degraded' || problems.length > 0 || notRunning || hb.config.error !== null || hb.config.problems.length > 0;
    return { heard: degraded ? 'degraded' : 'online', problems: [...new Set(problems)] };
  }

  private signature(e: Entry): string {
    const hb = e.heartbeat;
    if (!hb) return '';
    const lists = (hb.lists ?? []).map((l) => `${l.id}:${l.version}`).join(',');
    return [e.status, e.instanceId, hb.config.version, hb.config.error, hb.interval_s, hb.cameras.map((c) => `${c.id}:${c.state}`).join(','), lists].join('|');
  }

  /**
   * Writes the entry's heartbeat. It is marked written before the write (a heartbeat arriving
   * meanwhile marks it dirty again) and dirty again when the write fails. An edge deleted
   * meanwhile (no row to update) is forgotten: a heartbeat never brings it back.
   */
  private async persist(e: Entry, now: number): Promise<void> {
    const body = e.heartbeat ? JSON.stringify({ ...e.heartbeat, clock_skew_s: e.clockSkewS }) : null;
    e.persistedAt = now;
    e.persistedSig = this.signature(e);
    e.dirty = false;
    let saved: boolean;
    try {
      saved = await this.deps.edges.saveHeartbeat(e.id, e.instanceId, e.lastSeenMs, body);
    } catch (err) {
      e.dirty = true;
      e.persistedSig = '';
      throw err;
    }
    if (!saved && this.entries.get(e.id) === e) this.entries.delete(e.id);
  }

  private async entry(edgeId: string, now: number): Promise<Entry> {
    const known = this.entries.get(edgeId);
    if (known) return known;
    const r = await this.deps.edges.get(edgeId);
    // Another heartbeat of this edge may have created it while the record was read.
    let e = this.entries.get(edgeId);
    if (!e) {
      e = r ? this.fromRecord(r, now) : this.blank(edgeId);
      this.entries.set(edgeId, e);
    }
    return e;
  }

  private blank(id: string): Entry {
    return { id, lastSeenMs: null, instanceId: null, heartbeat: null, clockSkewS: null, status: 'offline', problems: ['never heard'], heard: 'online', heardProblems: [], persistedAt: 0, persistedSig: '', dirty: false };
  }

  private fromRecord(r: EdgeRecord, now: number): Entry {
    const e = this.blank(r.id);
    if (r.heartbeat && r.last_seen_at !== null) {
      try {
        const stored = JSON.parse(r.heartbeat) as EdgeHeartbeat & { clock_skew_s?: number | null };
        const { clock_skew_s, ...hb } = stored;
        e.heartbeat = hb;
        e.clockSkewS = clock_skew_s ?? null;
        e.lastSeenMs = r.last_seen_at;
        e.instanceId = r.instance_id;
        e.heard = hb.health === 'degraded' || hb.problems?.length || hb.config?.error ? 'degraded' : 'online';
        e.heardProblems = hb.problems ?? [];
      } catch {
        this.log.warn({ edge: r.id }, 'stored heartbeat unreadable; the edge counts as never heard');
      }
    }
    // The status at start is not a change: it is not announced.
    e.status = this.statusAt(e, now);
    e.problems = e.status === 'offline' ? this.offlineProblems(e) : e.heardProblems;
    e.persistedAt = now;
    e.persistedSig = this.signature(e);
    return e;
  }

  private view(e: Entry): EdgeHealthState {
    return { lastSeenMs: e.lastSeenMs, instanceId: e.instanceId, heartbeat: e.heartbeat, clockSkewS: e.clockSkewS, status: e.status, problems: e.problems };
  }
}
