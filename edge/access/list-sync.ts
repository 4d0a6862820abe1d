/**
 * The access lists this edge decides with: taken from the cloud, kept on disk, used offline.
 *
 * Guarantees:
 * - The edge decides with whole lists only. A list is fetched page by page
 *   (`GET /config/lists/{id}/entries`, ETag = the list's version); a page whose version differs
 *   from the summary's (the list changed mid-read) abandons that list's update, and the version
 *   in force stays until the next sync reads it whole.
 * - Every list in force is on disk (`data_dir/lists/<id>.json`, written atomically) before it is
 *   in force: an edge that restarts without the cloud decides with what it last knew.
 * - A list removed from the edge's bundle stops applying at once and its file is deleted.
 * - `reconcile` never throws; failures are kept in `lastError` (heartbeat, /status) and the
 *   lists in force keep deciding. Reconciles never overlap.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import type { Logger } from '../../shared/log.js';
import { redactUrl, silentLogger } from '../../shared/log.js';
import { ListSnapshot, ListEntry, type ListSummary } from '../../shared/schemas/lists.js';
import { writeFileAtomic } from '../outbox/outbox.js';
import { cloudHeaders } from '../config/cloud-sync.js';

/** Entries read per request (the cloud's page limit). */
export const ENTRIES_PAGE = 10_000;

export interface ListSyncOptions {
  dataDir: string;
  cloud: { url: string; api_key: string; timeout_ms: number } | null;
  instanceId?: string;
  logger?: Logger;
  /** Called with the lists in force whenever they change (load from disk, or a sync). */
  onChange?: (lists: ListSnapshot[]) => void;
}

export class ListChangedError extends Error {
  readonly code = 'LIST_CHANGED_DURING_READ';
}

export class ListSync {
  readonly dir: string;
  private readonly log: Logger;
  private readonly byId = new Map<string, ListSnapshot>();
  private running: Promise<void> | null = null;
  private pending: ListSummary[] | null = null;
  lastError: string | null = null;
  lastSyncAt: number | null = null;

  constructor(private readonly o: ListSyncOptions) {
    this.dir = join(o.dataDir, 'lists');
    this.log = (o.logger ?? silentLogger).child({ component: 'list-sync' });
  }

  /** The lists in force. */
  get lists(): ListSnapshot[] {
    return [...this.byId.values()];
  }

  /** `{id, version}` of each list in force, for the heartbeat. */
  versions(): Array<{ id: string; version: string }> {
    return this.lists.map((l) => ({ id: l.id, version: l.version })).sort((a, b) => a.id.localeCompare(b.id));
  }

  /** Loads the lists kept on disk (an unreadable file is reported and skipped). */
  loadCached(): ListSnapshot[] {
    let names: string[] = [];
    try {
      names = readdirSync(this.dir).filter((n) => n.endsWith('.json'));
    } catch {
      return [];
    }
    for (const n of names) {
      try {
        const snap = ListSnapshot.parse(JSON.parse(readFileSync(join(this.dir, n), 'utf8')));
        this.byId.set(snap.id, snap);
      } catch (e) {
        this.log.error({ file: n, err: (e as Error).message.slice(0, 300) }, 'a cached access list is unreadable: skipped until the cloud sends it again');
      }
    }
    if (this.byId.size) {
      this.log.info({ lists: this.byId.size }, 'access lists loaded from disk');
      this.o.onChange?.(this.lists);
    }
    return this.lists;
  }

  /**
   * Brings the lists in force to `summaries` (the bundle's): fetches those whose version moved,
   * drops those no longer named. A call while one runs is queued (the latest summaries win).
   */
  reconcile(summaries: ListSummary[]): Promise<void> {
    this.pending = summaries;
    this.running ??= this.drain().finally(() => (this.running = null));
    return this.running;
  }

  private async drain(): Promise<void> {
    while (this.pending) {
      const next = this.pending;
      this.pending = null;
      await this.apply(next);
    }
  }

  private async apply(summaries: ListSummary[]): Promise<void> {
    let changed = false;
    const wanted = new Set(summaries.map((s) => s.id));
    for (const id of [...this.byId.keys()]) {
      if (wanted.has(id)) continue;
      this.byId.delete(id);
      rmSync(this.fileOf(id), { force: true });
      changed = true;
      this.log.info({ list: id }, 'access list no longer applies to this edge: removed');
    }
    const errors: string[] = [];
    for (const s of summaries) {
      const have = this.byId.get(s.id);
      if (have && have.version === s.version) continue;
      try {
        const entries = await this.fetchEntries(s);
        const snap = ListSnapshot.parse({ ...s, entries });
        mkdirSync(this.dir, { recursive: true });
        writeFileAtomic(this.fileOf(s.id), Buffer.from(JSON.stringify(snap)));
        this.byId.set(s.id, snap);
        changed = true;
        this.log.info({ list: s.id, version: s.version, entries: entries.length }, 'access list updated');
      } catch (e) {
        errors.push(`list ${s.id}: ${redactUrl((e as Error).message).slice(0, 300)}`);
      }
    }
    this.lastError = errors.length ? errors.join('; ') : null;
    if (errors.length) this.log.warn({ error: this.lastError }, 'access lists not all updated; the versions in force keep deciding');
    this.lastSyncAt = Date.now();
    if (changed) this.o.onChange?.(this.lists);
  }

  private fileOf(id: string): string {
    return join(this.dir, `${id}.json`);
  }

  private async fetchEntries(s: ListSummary): Promise<ListEntry[]> {
    const cloud = this.o.cloud;
    if (!cloud) throw new Error('no cloud configured');
    const out: ListEntry[] = [];
    const base = cloud.url.endsWith('/') ? cloud.url : cloud.url + '/';
    for (let skip = 0; ; ) {
      const url = new URL(`config/lists/${encodeURIComponent(s.id)}/entries?skip=${skip}&limit=${ENTRIES_PAGE}`, base);
      const res = await request(url, { headers: cloudHeaders(cloud.api_key, this.o.instanceId), headersTimeout: cloud.timeout_ms, bodyTimeout: cloud.timeout_ms });
      const text = await res.body.text();
      if (res.statusCode !== 200) throw new Error(`GET ${url.pathname}: HTTP ${res.statusCode} ${text.slice(0, 200)}`);
      const etag = String(res.headers.etag ?? '').replace(/^W\//, '').replace(/"/g, '');
      if (etag && etag !== s.version) throw new ListChangedError(`changed while read (version ${etag}, expected ${s.version}); read again at the next sync`);
      const page = JSON.parse(text) as { items: unknown[]; total: number };
      for (const e of page.items) out.push(ListEntry.parse(e));
      skip += page.items.length;
      if (!page.items.length || skip >= page.total) break;
    }
    if (out.length !== s.entries_count) throw new ListChangedError(`read ${out.length} entries, the list has ${s.entries_count}; read again at the next sync`);
    return out;
  }
}
