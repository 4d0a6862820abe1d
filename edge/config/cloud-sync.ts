/**
 * Cloud config sync: what this edge runs, from the cloud. The bundle `GET /edges/{edge_id}/config`
 * (ETag = its version) is polled with `If-None-Match`, so an unchanged config costs a 304 and
 * nothing is re-read or re-applied; an older cloud without that route (404) is read through its
 * paged `/config/<kind>` lists instead. Every request carries X-API-Key and X-Edge-Instance.
 *
 * Items are applied one by one (edge/config/remote-items.ts): a bad camera, zone, sensor or
 * exporter is reported in `problems` and logged once per distinct set; the rest run. The last
 * good merged config is cached in `data_dir/cloud-config.json` (its version and problems next
 * to it) so an edge that starts offline runs with what it last knew. Changes are emitted, not
 * restarted.
 */
import { EventEmitter } from 'node:events';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { request } from 'undici';
import type { Logger } from '../../shared/log.js';
import { redactUrl, silentLogger } from '../../shared/log.js';
import { writeFileAtomic } from '../outbox/outbox.js';
import { fieldErrors, isAppError } from '../../shared/errors.js';
import { EdgeConfigBundle } from '../../shared/schemas/edge.js';
import type { ListSummary } from '../../shared/schemas/lists.js';
import type { EdgeConfig } from './schema.js';
import { parseEdgeConfig } from './load.js';
import { CONFIG_KINDS, describeProblem, mergeRemote, type ConfigProblem, type RemoteConfig } from './remote-items.js';

export { CONFIG_KINDS, mergeRemote, type ConfigProblem, type RemoteConfig } from './remote-items.js';

/** Headers of every request to the cloud: the key, and which installation sends it. */
export function cloudHeaders(apiKey: string, instanceId?: string): Record<string, string> {
  return { 'x-api-key': apiKey, accept: 'application/json', ...(instanceId ? { 'x-edge-instance': instanceId } : {}) };
}

const base = (url: string) => (url.endsWith('/') ? url : url + '/');

/** Reads every page of one config list. */
export async function fetchList(baseUrl: string, apiKey: string, kind: string, timeoutMs = 15_000, instanceId?: string): Promise<Array<Record<string, unknown>>> {
  const items: Array<Record<string, unknown>> = [];
  for (let skip = 0; ; ) {
    const url = new URL(`config/${kind}?skip=${skip}&limit=1000`, base(baseUrl));
    const res = await request(url, { headers: cloudHeaders(apiKey, instanceId), headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`GET /config/${kind}: HTTP ${res.statusCode} ${text.slice(0, 200)}`);
    const page = JSON.parse(text) as { items: Array<Record<string, unknown>>; total: number };
    items.push(...page.items);
    skip += page.items.length;
    if (!page.items.length || skip >= page.total) return items;
  }
}

/** The paged `/config/*` lists (what an older cloud, without `GET /edges/{id}/config`, serves). */
export async function fetchRemote(baseUrl: string, apiKey: string, timeoutMs?: number, instanceId?: string): Promise<RemoteConfig> {
  const lists = await Promise.all(CONFIG_KINDS.map((k) => fetchList(baseUrl, apiKey, k, timeoutMs, instanceId)));
  return Object.fromEntries(CONFIG_KINDS.map((k, i) => [k, lists[i]])) as RemoteConfig;
}

export type BundleResult = { status: 'bundle'; bundle: EdgeConfigBundle } | { status: 'not-modified' } | { status: 'no-route' };

/**
 * `GET /edges/{edge_id}/config` with `If-None-Match: "<version>"` when a version is in force:
 * 304 = unchanged (nothing read), 404 = an older cloud without the route (the caller reads the
 * lists). Any other failure throws with the cloud's words.
 */
export async function fetchBundle(baseUrl: string, apiKey: string, edgeId: string, o: { version?: string | null; timeoutMs?: number; instanceId?: string } = {}): Promise<BundleResult> {
  const url = new URL(`edges/${encodeURIComponent(edgeId)}/config`, base(baseUrl));
  const headers = { ...cloudHeaders(apiKey, o.instanceId), ...(o.version ? { 'if-none-match': `"${o.version}"` } : {}) };
  const t = o.timeoutMs ?? 15_000;
  const res = await request(url, { headers, headersTimeout: t, bodyTimeout: t });
  const text = await res.body.text();
  if (res.statusCode === 304) return { status: 'not-modified' };
  if (res.statusCode === 404) return { status: 'no-route' };
  if (res.statusCode !== 200) throw new Error(`GET /edges/${edgeId}/config: HTTP ${res.statusCode} ${text.slice(0, 300)}`);
  const r = EdgeConfigBundle.safeParse(JSON.parse(text));
  if (!r.success) throw new Error(`GET /edges/${edgeId}/config: not a config bundle: ${fieldErrors(r.error.issues).map((e) => e.message).slice(0, 5).join('; ')}`);
  return { status: 'bundle', bundle: r.data };
}

export interface CloudSyncOptions {
  base: EdgeConfig;
  logger?: Logger;
  /** Where the last good merged config is kept (default data_dir/cloud-config.json). */
  cachePath?: string;
  /** This installation's id, sent as X-Edge-Instance (edge/cloud/instance-id.ts). */
  instanceId?: string;
}

/** What the cache keeps beside the config: the version in force and its problems. */
interface CacheMeta {
  version: string | null;
  problems: ConfigProblem[];
}

/**
 * Emits `change` (EdgeConfig) whenever the cloud's config differs from the one in force,
 * `version` (string) when a new cloud version needs no apply (what it lets run is what runs), and
 * `lists` (ListSummary[]) when the access lists the bundle names, or their versions, changed (the
 * entries are fetched by edge/access/list-sync.ts).
 */
export class CloudConfigSync extends EventEmitter {
  readonly cachePath: string;
  private readonly log: Logger;
  private timer: NodeJS.Timeout | null = null;
  private current: EdgeConfig;
  private currentKey: string;
  lastError: string | null = null;
  lastSyncAt: number | null = null;
  source: 'file' | 'cloud' | 'cache' = 'file';
  /** The cloud's model list in force (the daemon rebuilds its recognizer when it changes). */
  models: Array<Record<string, unknown>> = [];
  private modelsKey = '[]';
  /** Where the last good model list is kept (next to the config cache). */
  readonly modelsCachePath: string;
  readonly metaCachePath: string;
  /** Items of the config in force that the edge refused or runs without some settings. */
  problems: ConfigProblem[] = [];
  private problemsKey = '[]';
  /** The cloud's version of the config in force (the bundle's ETag); null when read from the lists or the file. */
  version: string | null = null;
  /** Whether the last read used the paged lists (an older cloud). */
  legacy = false;
  /** Reads of the bundle answered 304 (nothing re-read or re-applied). */
  notModified = 0;
  /** The access lists of the last bundle read (null until one was read: the lists on disk apply). */
  lists: ListSummary[] | null = null;
  private listsKey = '';

  constructor(private readonly o: CloudSyncOptions) {
    super();
    this.cachePath = o.cachePath ?? join(o.base.data_dir, 'cloud-config.json');
    this.modelsCachePath = this.cachePath.replace(/(\.json)?$/, '.models.json');
    this.metaCachePath = this.cachePath.replace(/(\.json)?$/, '.meta.json');
    this.log = (o.logger ?? silentLogger).child({ component: 'config-sync' });
    this.current = o.base;
    this.currentKey = JSON.stringify(o.base);
  }

  /** The config to start with: the cloud's, else the cached last good copy, else the file's. */
  async initial(): Promise<EdgeConfig> {
    try {
      const got = await this.fetchMerged(false);
      if (got) {
        this.adopt(got.cfg, got.models, got.version, 'cloud');
        return got.cfg;
      }
    } catch (e) {
      this.lastError = this.describe(e);
      this.log.warn({ error: this.lastError }, 'cloud config unavailable at start');
    }
    try {
      const cached = parseEdgeConfig(JSON.parse(readFileSync(this.cachePath, 'utf8')), this.cachePath);
      // Local, non-synced settings always come from the file in force.
      const cfg = { ...this.o.base, cameras: cached.cameras, zones: cached.zones, sensors: cached.sensors, exporters: cached.exporters };
      let models: Array<Record<string, unknown>> = [];
      try {
        const m = JSON.parse(readFileSync(this.modelsCachePath, 'utf8')) as unknown;
        if (Array.isArray(m)) models = m.filter((x): x is Record<string, unknown> => !!x && typeof x === 'object');
      } catch {
        /* no cached model list: none */
      }
      let meta: CacheMeta = { version: null, problems: [] };
      try {
        meta = { ...meta, ...(JSON.parse(readFileSync(this.metaCachePath, 'utf8')) as Partial<CacheMeta>) };
      } catch {
        /* an older cache: version unknown */
      }
      this.report(Array.isArray(meta.problems) ? meta.problems : []);
      this.adopt(cfg, models, typeof meta.version === 'string' ? meta.version : null, 'cache');
      this.log.info({ version: this.version }, 'running on the cached cloud config');
      return cfg;
    } catch {
      return this.o.base;
    }
  }

  start(): void {
    const every = (this.o.base.cloud?.sync_interval_s ?? 30) * 1000;
    this.timer = setInterval(() => void this.syncOnce(), every);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * The cloud says it serves `version` now (the heartbeat's answer): poll at once when that is not
   * the version in force, so a change applies within a heartbeat rather than a sync interval.
   */
  syncIfBehind(version: string): void {
    if (version !== this.version && this.source !== 'file') void this.syncOnce();
  }

  private polling: Promise<boolean> | null = null;

  /**
   * One poll; emits `change` when the merged config or the model list differs. Never throws.
   * A poll asked for while one runs shares it (never two applies at once).
   */
  syncOnce(): Promise<boolean> {
    this.polling ??= this.poll().finally(() => (this.polling = null));
    return this.polling;
  }

  private async poll(): Promise<boolean> {
    try {
      // A version this process read from the cloud may be revalidated; a cached one is re-read
      // whole (the file's edge-only settings may have changed since it was merged).
      const got = await this.fetchMerged(this.source === 'cloud');
      this.lastError = null;
      this.lastSyncAt = Date.now();
      if (!got) return false; // 304: the version in force is current
      if (JSON.stringify(got.cfg) === this.currentKey && JSON.stringify(got.models) === this.modelsKey) {
        // A new version whose runnable part is what runs (e.g. only refused items changed): it is
        // in force as it is; `version` says so without an apply.
        if (got.version !== this.version) {
          this.version = got.version;
          this.emit('version', got.version);
        }
        return false;
      }
      this.adopt(got.cfg, got.models, got.version, 'cloud');
      this.emit('change', got.cfg);
      return true;
    } catch (e) {
      this.lastError = this.describe(e);
      this.log.warn({ error: this.lastError }, 'cloud config sync failed; keeping the config in force');
      return false;
    }
  }

  /** The state reported in /status and the heartbeat (`applied_at` is the daemon's). */
  state(): { version: string | null; error: string | null; problems: ConfigProblem[] } {
    return { version: this.version, error: this.lastError, problems: this.problems };
  }

  private describe(e: unknown): string {
    return (isAppError(e) ? `${e.message}: ${(e.errors ?? []).map((x) => x.message).join('; ')}` : redactUrl((e as Error).message)).slice(0, 2000);
  }

  /** The cloud's config merged into the file's, or null when the version in force is current (304). */
  private async fetchMerged(revalidate: boolean): Promise<{ cfg: EdgeConfig; models: Array<Record<string, unknown>>; version: string | null } | null> {
    const cloud = this.o.base.cloud;
    if (!cloud) throw new Error('no cloud configured');
    const opts = { timeoutMs: cloud.timeout_ms, instanceId: this.o.instanceId };
    const b = await fetchBundle(cloud.url, cloud.api_key, this.o.base.edge_id, { ...opts, version: revalidate ? this.version : null });
    if (b.status === 'not-modified') {
      this.notModified++;
      return null;
    }
    let remote: RemoteConfig;
    let version: string | null = null;
    if (b.status === 'bundle') {
      remote = b.bundle;
      version = b.bundle.version;
      this.takeLists(b.bundle.lists);
      if (this.legacy) this.log.info('the cloud serves GET /edges/{id}/config now: reading the versioned bundle');
      this.legacy = false;
    } else {
      if (!this.legacy) this.log.info({ edge: this.o.base.edge_id }, 'the cloud has no GET /edges/{id}/config (an older cloud): reading the /config lists');
      this.legacy = true;
      remote = await fetchRemote(cloud.url, cloud.api_key, cloud.timeout_ms, this.o.instanceId);
    }
    // Timestamps alone are not a change of the model set.
    const models = remote.models.map(({ created_at: _c, updated_at: _u, ...m }) => m);
    const problems: ConfigProblem[] = [];
    const cfg = parseEdgeConfig(mergeRemote(this.o.base, remote, { previous: this.current, problems }), 'cloud config');
    this.report(problems);
    return { cfg, models, version };
  }

  /** Keeps the bundle's access lists; `lists` is emitted when they differ from the last read. */
  private takeLists(lists: ListSummary[]): void {
    const key = JSON.stringify(lists.map((l) => [l.id, l.version]));
    this.lists = lists;
    if (key === this.listsKey) return;
    this.listsKey = key;
    this.emit('lists', lists);
  }

  /** Logs the items the edge could not take, once per distinct set (not on every poll). */
  private report(problems: ConfigProblem[]): void {
    const key = JSON.stringify(problems);
    if (key === this.problemsKey) return;
    this.problems = problems;
    this.problemsKey = key;
    for (const p of problems) {
      const fields = { kind: p.kind, id: p.id, [p.kind === 'cameras' ? 'camera' : p.kind.replace(/s$/, '')]: p.id, errors: p.errors };
      if (p.dropped === 'settings') this.log.warn(fields, `${describeProblem(p)}: those settings are invalid and ignored (the edge file's or the default apply)`);
      else this.log.error(fields, `${describeProblem(p)}: invalid; the version in force (if any) keeps running, the other items run`);
    }
    if (!problems.length && key !== '[]') this.log.info('config problems cleared');
  }

  private adopt(cfg: EdgeConfig, models: Array<Record<string, unknown>>, version: string | null, source: 'cloud' | 'cache'): void {
    this.current = cfg;
    this.currentKey = JSON.stringify(cfg);
    this.models = models;
    this.modelsKey = JSON.stringify(models);
    this.version = version;
    this.source = source;
    if (source === 'cloud') {
      mkdirSync(dirname(this.cachePath), { recursive: true });
      const { cloud: _secret, ...cacheable } = cfg;
      writeFileAtomic(this.cachePath, Buffer.from(JSON.stringify({ ...cacheable, cloud: null }, null, 2)));
      writeFileAtomic(this.modelsCachePath, Buffer.from(JSON.stringify(models, null, 2)));
      const meta: CacheMeta = { version, problems: this.problems };
      writeFileAtomic(this.metaCachePath, Buffer.from(JSON.stringify(meta, null, 2)));
    }
  }
}
