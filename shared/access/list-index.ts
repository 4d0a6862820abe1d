/**
 * The access lists an edge decides with, indexed for one lookup per confirmed read: pure and
 * synchronous (no I/O, no clock of its own), built once per list sync.
 *
 * Guarantees of `lookup(read)`:
 * - It returns every entry, once, with its lowest match cost, whose list is enabled, applies to
 *   the read's camera (`camera_ids` empty = every camera; a read of no known camera matches
 *   only those lists), applies to its direction (`any`, or equal to the read's; a read of no
 *   known direction matches only `any` lists), whose validity holds at `read.at` (`valid_from`
 *   inclusive, `valid_until` exclusive), whose schedule allows `read.at` in the list's time
 *   zone (or `read.siteTimeZone`) and whose plate is within the list's `max_distance` of the
 *   read under the cost rule of ./plate-distance.ts. A read that normalises to nothing
 *   matches nothing.
 * - The index never misses: the property test holds it equal to a brute-force scan of every
 *   entry with the same distance (test/shared/access/lookup-property.test.ts).
 * - Matches come sorted: lowest distance first, then deny, allow, watch, then list and entry
 *   order as given.
 *
 * How it stays fast at 100,000 entries: exact lists (`mode: exact`, `max_distance` < 1) are
 * one Map from normalised plate to entries. The other lists are grouped by their whole-edit
 * budget `k = floor(max_distance)` into a deletion neighbourhood of the look-alike-folded
 * plates (./deletion-index.ts, depth k), which offers every entry within k plain edits of the
 * folded read — a superset of the entries within the weighted cost — and each candidate is
 * verified with the weighted distance.
 *
 * Bad lists (a plate that normalises to nothing or past MAX_LIST_PLATE, a bad window, an
 * unknown time zone, an unparsable validity bound) make the constructor throw `CONFIG_INVALID`
 * / `VALIDATION_ERROR` naming the list and entry, so the caller keeps the lists it had; a bad
 * read (an invalid `at`, an unknown `siteTimeZone`) is a `VALIDATION_ERROR` naming the field.
 */
import { AppError } from '../errors.js';
import { normalizePlate } from '../plate/normalize.js';
import { MAX_LIST_PLATE, type ListEntry, type ListSnapshot, type ListType } from '../schemas/lists.js';
import { DeletionIndex } from './deletion-index.js';
import { editBudget, foldCode, plateDistance, type EditCosts } from './plate-distance.js';
import { checkTimeZone, compileWindow, localTime, scheduleCovers, type CompiledWindow, type LocalTime } from './schedule.js';

/** One confirmed read, as the edge has it when it decides. */
export interface AccessRead {
  /** The read text as the OCR consensus gave it (normalised here). */
  plate: string;
  /** When the plate was read. */
  at: Date;
  cameraId: string | null;
  direction: 'in' | 'out' | null;
  /** RFID tags seen in the pass's time window (the second factor; used by `decide`). */
  rfid?: readonly string[];
  /** The site's IANA time zone, for lists that name none. */
  siteTimeZone: string;
}

/** A list as a decision names it. */
export interface ListRef {
  id: string;
  name: string;
  type: ListType;
}

/** One entry a read matched, with its cost (0 = exact after normalisation). */
export interface AccessMatch {
  list: ListRef;
  entry: ListEntry;
  distance: number;
}

/** The deciding order of list types: deny beats allow beats watch. */
export const TYPE_RANK: Readonly<Record<ListType, number>> = { deny: 0, allow: 1, watch: 2 };

interface CompiledList {
  ref: ListRef;
  cameras: ReadonlySet<string> | null;
  direction: 'any' | 'in' | 'out';
  costs: EditCosts;
  maxDistance: number;
  timeZone: string | null;
}

interface CompiledEntry {
  list: number;
  order: number;
  entry: ListEntry;
  plate: string;
  validFrom: number;
  validUntil: number;
  windows: CompiledWindow[];
}

interface FuzzyGroup {
  index: DeletionIndex;
  /** Longest folded plate in the group: a read longer than this plus the depth matches nothing. */
  maxLen: number;
}

const fold = (plate: string): string => {
  let out = '';
  for (let i = 0; i < plate.length; i++) out += String.fromCharCode(foldCode(plate.charCodeAt(i)));
  return out;
};

function bound(v: string | null, field: string, fallback: number): number {
  if (v === null || v === undefined) return fallback;
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new AppError('CONFIG_INVALID', `${field}: not a date-time: ${JSON.stringify(v)}`, { errors: [{ field, message: `${field}: not a date-time` }] });
  return t;
}

const invalid = (field: string, message: string) => new AppError('CONFIG_INVALID', `${field}: ${message}`, { errors: [{ field, message: `${field}: ${message}` }] });

export class ListIndex {
  private readonly lists: CompiledList[] = [];
  private readonly entries: CompiledEntry[] = [];
  private readonly exact = new Map<string, number[]>();
  private readonly fuzzy = new Map<number, FuzzyGroup>();
  private readonly seen: Uint32Array;
  private stamp = 0;

  /** Indexes the enabled lists of `snapshots` (disabled ones are left out entirely). */
  constructor(snapshots: readonly ListSnapshot[]) {
    snapshots.forEach((s, li) => {
      if (!s.enabled) return;
      const field = `lists[${li}]`;
      if (s.timezone !== null && s.timezone !== undefined) checkTimeZone(s.timezone, `${field}.timezone`);
      const maxDistance = s.match?.max_distance ?? 0;
      const confusableCost = s.match?.confusable_cost ?? 0;
      if (!(maxDistance >= 0 && maxDistance <= 3)) throw invalid(`${field}.match.max_distance`, 'must be between 0 and 3');
      if (!(confusableCost >= 0 && confusableCost <= 1)) throw invalid(`${field}.match.confusable_cost`, 'must be between 0 and 1');
      const list: CompiledList = {
        ref: { id: s.id, name: s.name, type: s.type },
        cameras: s.camera_ids?.length ? new Set(s.camera_ids) : null,
        direction: s.direction ?? 'any',
        costs: { confusable: s.match?.mode === 'confusable', confusableCost },
        maxDistance,
        timeZone: s.timezone ?? null,
      };
      const listNo = this.lists.push(list) - 1;
      const k = editBudget(maxDistance);
      const useExact = !list.costs.confusable && k === 0;
      let group: FuzzyGroup | undefined;
      if (!useExact) {
        group = this.fuzzy.get(k);
        if (!group) this.fuzzy.set(k, (group = { index: new DeletionIndex(k), maxLen: 0 }));
      }
      s.entries.forEach((entry, ei) => {
        const ef = `${field}.entries[${ei}]`;
        const plate = normalizePlate(String(entry.plate ?? ''));
        if (plate.length === 0 || plate.length > MAX_LIST_PLATE) throw invalid(`${ef}.plate`, `must have 1-${MAX_LIST_PLATE} letters and digits`);
        const id = this.entries.push({
          list: listNo,
          order: ei,
          entry,
          plate,
          validFrom: bound(entry.valid_from, `${ef}.valid_from`, -Infinity),
          validUntil: bound(entry.valid_until, `${ef}.valid_until`, Infinity),
          windows: (entry.schedule ?? []).map((w, wi) => compileWindow(w, `${ef}.schedule[${wi}]`)),
        }) - 1;
        if (group) {
          const folded = fold(plate);
          group.index.add(folded, id);
          if (folded.length > group.maxLen) group.maxLen = folded.length;
        } else {
          const at = this.exact.get(plate);
          if (at) at.push(id);
          else this.exact.set(plate, [id]);
        }
      });
    });
    for (const g of this.fuzzy.values()) g.index.freeze();
    this.seen = new Uint32Array(this.entries.length);
  }

  /** Entries indexed (of enabled lists). */
  get size(): number {
    return this.entries.length;
  }

  /** Every entry `read` matches now (see the module's guarantees). */
  lookup(read: AccessRead): AccessMatch[] {
    const at = read.at instanceof Date ? read.at.getTime() : NaN;
    if (Number.isNaN(at)) throw new AppError('VALIDATION_ERROR', 'at: must be a valid Date', { errors: [{ field: 'at', message: 'at: must be a valid Date' }] });
    checkTimeZone(read.siteTimeZone, 'siteTimeZone');
    const plate = normalizePlate(String(read.plate ?? ''));
    if (plate.length === 0 || this.entries.length === 0) return [];

    if (++this.stamp === 0xffffffff) {
      this.seen.fill(0);
      this.stamp = 1;
    }
    const stamp = this.stamp;
    const applies = this.lists.map((l) => (l.cameras === null || (read.cameraId !== null && l.cameras.has(read.cameraId))) && (l.direction === 'any' || l.direction === read.direction));
    let local: Map<string, LocalTime> | undefined;
    const out: Array<AccessMatch & { order: number; listNo: number }> = [];

    const consider = (id: number, known: number | null): void => {
      if (this.seen[id] === stamp) return;
      this.seen[id] = stamp;
      const e = this.entries[id];
      if (!applies[e.list] || at < e.validFrom || at >= e.validUntil) return;
      const list = this.lists[e.list];
      const d = known ?? plateDistance(plate, e.plate, list.costs, list.maxDistance);
      if (d === Infinity) return;
      if (e.windows.length > 0) {
        const zone = list.timeZone ?? read.siteTimeZone;
        local ??= new Map();
        let t = local.get(zone);
        if (!t) local.set(zone, (t = localTime(read.at, zone)));
        if (!scheduleCovers(e.windows, t)) return;
      }
      out.push({ list: list.ref, entry: e.entry, distance: Math.round(d * 1e6) / 1e6, order: e.order, listNo: e.list });
    };

    const hits = this.exact.get(plate);
    if (hits) for (const id of hits) consider(id, 0);
    if (this.fuzzy.size > 0) {
      const folded = fold(plate);
      for (const g of this.fuzzy.values()) {
        if (folded.length > g.maxLen + g.index.depth) continue;
        g.index.candidates(folded, (id) => consider(id, null));
      }
    }
    out.sort((a, b) => a.distance - b.distance || TYPE_RANK[a.list.type] - TYPE_RANK[b.list.type] || a.listNo - b.listNo || a.order - b.order);
    return out.map(({ list, entry, distance }) => ({ list, entry, distance }));
  }
}
