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

interface FuzzyGroup {
  index: DeletionIndex;
  /** Longest folded plate in the group: a read longer than this plus the depth matches nothing. */
  maxLen: number;
}

const invalid = (field: string, message: string) => new AppError('CONFIG_INVALID', `${field}: ${message}`, { errors: [{ field, message: `${field}: ${message}` }] });

const fold = (plate: string): string => {
  let out = '';
  for (let i = 0; i < plate.length; i++) out += String.fromCharCode(foldCode(plate.charCodeAt(i)));
  return out;
};

/** An entry's validity bound in ms; `field` names it in the error. */
function bound(v: string, field: () => string): number {
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw invalid(field(), `not a date-time: ${JSON.stringify(v)}`);
  return t;
}

const CLEAN = /^[A-Z0-9]*$/;
/** normalizePlate, skipping the Unicode work for text that is already normalised (most entries and reads). */
const normalized = (text: unknown): string => (typeof text === 'string' && CLEAN.test(text) ? text : normalizePlate(String(text ?? '')));

export class ListIndex {
  private readonly lists: CompiledList[] = [];
  // Entries by id, column by column: 100,000 entries are a few typed arrays, not 100,000 objects.
  private readonly entryList: Int32Array;
  private readonly entryOrder: Int32Array;
  private readonly validFrom: Float64Array;
  private readonly validUntil: Float64Array;
  private readonly plates: string[] = [];
  private readonly entryRefs: ListEntry[] = [];
  private readonly windows = new Map<number, CompiledWindow[]>();
  /** Exact lists: normalised plate → entry id, or ids when several entries share the plate. */
  private readonly exact = new Map<string, number | number[]>();
  private readonly fuzzy = new Map<number, FuzzyGroup>();
  private readonly seen: Uint32Array;
  private stamp = 0;

  /** Indexes the enabled lists of `snapshots` (disabled ones are left out entirely). */
  constructor(snapshots: readonly ListSnapshot[]) {
    let total = 0;
    for (const s of snapshots) if (s.enabled) total += s.entries.length;
    this.entryList = new Int32Array(total);
    this.entryOrder = new Int32Array(total);
    this.validFrom = new Float64Array(total).fill(-Infinity);
    this.validUntil = new Float64Array(total).fill(Infinity);
    this.seen = new Uint32Array(total);
    let id = 0;
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
      let group: FuzzyGroup | undefined;
      if (list.costs.confusable || k > 0) {
        group = this.fuzzy.get(k);
        if (!group) this.fuzzy.set(k, (group = { index: new DeletionIndex(k), maxLen: 0 }));
      }
      const entries = s.entries;
      for (let ei = 0; ei < entries.length; ei++, id++) {
        const entry = entries[ei];
        const ef = () => `${field}.entries[${ei}]`;
        const plate = normalized(entry.plate);
        if (plate.length === 0 || plate.length > MAX_LIST_PLATE) throw invalid(`${ef()}.plate`, `must have 1-${MAX_LIST_PLATE} letters and digits`);
        this.entryList[id] = listNo;
        this.entryOrder[id] = ei;
        this.plates.push(plate);
        this.entryRefs.push(entry);
        if (entry.valid_from != null) this.validFrom[id] = bound(entry.valid_from, () => `${ef()}.valid_from`);
        if (entry.valid_until != null) this.validUntil[id] = bound(entry.valid_until, () => `${ef()}.valid_until`);
        if (entry.schedule?.length) this.windows.set(id, entry.schedule.map((w, wi) => compileWindow(w, `${ef()}.schedule[${wi}]`)));
        if (group) {
          const folded = fold(plate);
          group.index.add(folded, id);
          if (folded.length > group.maxLen) group.maxLen = folded.length;
        } else {
          const at = this.exact.get(plate);
          if (at === undefined) this.exact.set(plate, id);
          else if (typeof at === 'number') this.exact.set(plate, [at, id]);
          else at.push(id);
        }
      }
    });
    for (const g of this.fuzzy.values()) g.index.freeze();
  }

  /** Entries indexed (of enabled lists). */
  get size(): number {
    return this.plates.length;
  }

  /** Every entry `read` matches now (see the module's guarantees). */
  lookup(read: AccessRead): AccessMatch[] {
    const at = read.at instanceof Date ? read.at.getTime() : NaN;
    if (Number.isNaN(at)) throw new AppError('VALIDATION_ERROR', 'at: must be a valid Date', { errors: [{ field: 'at', message: 'at: must be a valid Date' }] });
    checkTimeZone(read.siteTimeZone, 'siteTimeZone');
    const plate = normalized(read.plate);
    if (plate.length === 0 || this.plates.length === 0) return [];

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
      const listNo = this.entryList[id];
      if (!applies[listNo] || at < this.validFrom[id] || at >= this.validUntil[id]) return;
      const list = this.lists[listNo];
      const d = known ?? plateDistance(plate, this.plates[id], list.costs, list.maxDistance);
      if (d === Infinity) return;
      const windows = this.windows.get(id);
      if (windows) {
        const zone = list.timeZone ?? read.siteTimeZone;
        local ??= new Map();
        let t = local.get(zone);
        if (!t) local.set(zone, (t = localTime(read.at, zone)));
        if (!scheduleCovers(windows, t)) return;
      }
      out.push({ list: list.ref, entry: this.entryRefs[id], distance: Math.round(d * 1e6) / 1e6, order: this.entryOrder[id], listNo });
    };

    const hits = this.exact.get(plate);
    if (typeof hits === 'number') consider(hits, 0);
    else if (hits) for (const id of hits) consider(id, 0);
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
