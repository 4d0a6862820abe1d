/**
 * Access lists (issue 10): allow, deny and watch lists of plates, managed in the cloud
 * (`/config/lists`), synced to the edges they name and matched on the box for every confirmed
 * read. One definition for the cloud's API, the edge's sync and the matcher.
 *
 * - Plates are stored normalised (shared/plate `normalizePlate`): `AB–123`, `ab 123` and
 *   `AB123` are one entry. A plate that normalises to nothing, or to more than
 *   `MAX_LIST_PLATE` characters, is a 400 naming the entry.
 * - A schedule window `from`–`to` is local time in the list's time zone (or the site's when the
 *   list has none); `from` after `to` runs over midnight (Fri 22:00–06:00 covers Saturday
 *   03:00: the window belongs to the day it starts on); `to` may be `24:00`; `from` equal to
 *   `to` is refused (an empty or a whole day: say `00:00`–`24:00` for the latter).
 * - `valid_from` / `valid_until` bound an entry in time (inclusive / exclusive).
 * - Matching: exact after normalisation by default; `match.mode: "confusable"` lets the
 *   look-alikes of shared/plate (O/0, I/1, B/8, S/5, Z/2 …) cost `confusable_cost` (0 = free)
 *   and any other edit cost 1, accepting a read within `max_distance`.
 * - Deny beats allow; watch never opens anything but always alerts.
 */
import { z, Id, IsoDateTime, Name, SafeString } from './common.js';
import { normalizePlate } from '../plate/normalize.js';

export const LIST_TYPES = ['allow', 'deny', 'watch'] as const;
export type ListType = (typeof LIST_TYPES)[number];

/** Most characters of a normalised plate in a list (the longest plates in use have 10). */
export const MAX_LIST_PLATE = 16;
/** Most entries of one list: a PUT or a CSV import over it is a 413 naming the limit. */
export const MAX_LIST_ENTRIES = 200_000;
/** Most schedule windows per entry. */
export const MAX_SCHEDULE_WINDOWS = 16;

import { WEEKDAYS, type Weekday } from '../access/weekdays.js';
export { WEEKDAYS, type Weekday };

/** `HH:MM`, 00:00–23:59, or `24:00` (the end of the day). */
export const ClockTime = z
  .string()
  .regex(/^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'must be HH:MM between 00:00 and 24:00')
  .openapi({ example: '07:00' });

/** Minutes since midnight of a valid `ClockTime`. */
export const clockMinutes = (t: string): number => Number(t.slice(0, 2)) * 60 + Number(t.slice(3, 5));

export const ScheduleWindow = z
  .object({
    days: z.array(z.enum(WEEKDAYS)).min(1, 'name at least one day').max(7),
    from: ClockTime,
    to: ClockTime,
  })
  .strict()
  .superRefine((w, ctx) => {
    if (w.from === '24:00') ctx.addIssue({ code: 'custom', path: ['from'], message: 'from must be before 24:00' });
    if (clockMinutes(w.from) === clockMinutes(w.to)) {
      ctx.addIssue({ code: 'custom', path: ['to'], message: 'to must differ from from (00:00-24:00 is the whole day; from after to runs over midnight)' });
    }
  })
  .openapi('ScheduleWindow', { example: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '07:00', to: '19:00' } });
export type ScheduleWindow = z.infer<typeof ScheduleWindow>;

/** A plate as an entry: normalised here, once, so every side compares the same string. */
export const ListPlate = SafeString()
  .max(64, 'a plate is at most 64 characters as written')
  .transform((p) => normalizePlate(p))
  .pipe(z.string().min(1, 'a plate needs at least one letter or digit').max(MAX_LIST_PLATE, `a plate is at most ${MAX_LIST_PLATE} letters and digits`))
  .openapi({ type: 'string', example: 'ABC123', description: `Stored normalised: upper case, A-Z 0-9 only, 1-${MAX_LIST_PLATE} characters` });

export const ListEntry = z
  .object({
    plate: ListPlate,
    label: SafeString().max(128).nullable().default(null).describe('Who or what this plate is (shown with the decision)'),
    valid_from: IsoDateTime.nullable().default(null).describe('Active from this instant (inclusive); null = always was'),
    valid_until: IsoDateTime.nullable().default(null).describe('Active until this instant (exclusive); null = never ends'),
    schedule: z.array(ScheduleWindow).max(MAX_SCHEDULE_WINDOWS).default([]).describe('Weekly windows in the list\'s time zone; empty = at any time'),
    rfid: SafeString().min(1).max(64).nullable().default(null).describe('An RFID tag that must be read with the plate (second factor); null = plate alone'),
  })
  .strict()
  .superRefine((e, ctx) => {
    if (e.valid_from && e.valid_until && Date.parse(e.valid_until) <= Date.parse(e.valid_from)) {
      ctx.addIssue({ code: 'custom', path: ['valid_until'], message: 'valid_until must be after valid_from' });
    }
  })
  .openapi('ListEntry');
export type ListEntryInput = z.input<typeof ListEntry>;
export type ListEntry = z.output<typeof ListEntry>;

/** An IANA time zone name this runtime knows (Europe/Berlin, America/New_York, UTC). */
export const TimeZone = z
  .string()
  .max(64)
  .refine((tz) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  }, 'must be an IANA time zone such as Europe/Berlin or UTC')
  .openapi({ example: 'Europe/Berlin' });

export const ListMatch = z
  .object({
    mode: z.enum(['exact', 'confusable']).default('exact'),
    confusable_cost: z.number().min(0).max(1).default(0).describe('Cost of one look-alike swap (O/0, I/1, B/8 …) in confusable mode; 0 = free'),
    max_distance: z.number().min(0).max(3).default(0).describe('Largest total cost accepted: look-alike swaps plus 1 per other edit'),
  })
  .strict()
  .openapi('ListMatch');
export type ListMatch = z.output<typeof ListMatch>;

export const LIST_DIRECTIONS = ['any', 'in', 'out'] as const;

/** The list without its entries: what `GET /config/lists` serves and the edge compares versions of. */
const ListFields = {
  name: Name,
  type: z.enum(LIST_TYPES),
  edge_id: Id.nullable().default(null).describe('The edge that applies this list; null = every edge'),
  camera_ids: z.array(Id).max(64).default([]).describe('Cameras it applies to; empty = every camera of those edges'),
  direction: z.enum(LIST_DIRECTIONS).default('any').describe('Act only on cars going in, or out (zone direction); any = both'),
  match: ListMatch.default({ mode: 'exact', confusable_cost: 0, max_distance: 0 }),
  timezone: TimeZone.nullable().default(null).describe('Time zone of the entries\' schedules; null = the site\'s (the edge\'s `timezone`)'),
  enabled: z.boolean().default(true),
};

export const ListCreate = z
  .object({
    id: Id.optional().describe('Optional id; generated when absent'),
    ...ListFields,
    entries: z.array(ListEntry).max(MAX_LIST_ENTRIES).default([]).describe(`Entries, at most ${MAX_LIST_ENTRIES}; also managed page by page under /entries`),
  })
  .strict()
  .openapi('ListCreate');
export type ListCreateInput = z.input<typeof ListCreate>;
export type ListCreate = z.output<typeof ListCreate>;

export const ListSummary = z
  .object({
    id: Id,
    ...ListFields,
    entries_count: z.number().int().min(0),
    version: z.string().describe('Changes whenever the list or any entry changes (the ETag of its entries)'),
    created_at: IsoDateTime,
    updated_at: IsoDateTime,
  })
  .strict()
  .openapi('List');
export type ListSummary = z.output<typeof ListSummary>;

/** A list with all its entries, as the edge caches it. */
export const ListSnapshot = ListSummary.extend({ entries: z.array(ListEntry) }).openapi('ListSnapshot');
export type ListSnapshot = z.output<typeof ListSnapshot>;

/** What the gate did about one confirmed read: in the event (`decision`), on the stream, MQTT and the web app. */
export const DECISION_ACTIONS = ['open', 'deny', 'alert', 'none'] as const;
export type DecisionAction = (typeof DECISION_ACTIONS)[number];

export const Decision = z
  .object({
    action: z.enum(DECISION_ACTIONS),
    list: z.object({ id: Id, name: z.string().max(256), type: z.enum(LIST_TYPES) }).strict().nullable(),
    entry_label: z.string().max(128).nullable(),
    matched_plate: z.string().max(32).nullable().describe('The list entry that matched (normalised)'),
    distance: z.number().min(0).max(3).nullable().describe('Match cost: 0 = exact'),
    direction: z.enum(['in', 'out']).nullable(),
    alert: z.boolean().default(false).describe('A watch list matched (watch lists never open, always alert)'),
    reason: z.string().max(256),
    latency_ms: z.number().min(0).max(3_600_000).nullable().describe('From the first frame with the plate visible to the relay command (or the decision when no relay acts)'),
  })
  .strict()
  .openapi('Decision');
export type Decision = z.output<typeof Decision>;

/** `PUT /config/lists/{id}`: the list's fields, replaced whole (entries are managed under /entries). */
export const ListUpdate = ListCreate.omit({ id: true, entries: true }).openapi('ListUpdate');
export type ListUpdateInput = z.input<typeof ListUpdate>;
export type ListUpdate = z.output<typeof ListUpdate>;

/** `POST|PUT /config/lists/{id}/entries` as JSON (the same routes take `text/csv`). */
export const ListEntriesBody = z
  .object({ entries: z.array(ListEntry).max(MAX_LIST_ENTRIES) })
  .strict()
  .openapi('ListEntriesBody');

/** One edge that applies a list, and whether it decides with the current version (from its heartbeat). */
export const ListEdgeVersion = z
  .object({
    id: Id,
    version: z.string().nullable().describe('The version the edge last reported deciding with; null = it has not reported this list'),
    current: z.boolean().describe('version equals the list\'s current version'),
  })
  .strict()
  .openapi('ListEdgeVersion');
export type ListEdgeVersion = z.output<typeof ListEdgeVersion>;

/** `GET /config/lists/{id}`: the list, and which of the edges applying it have its current version. */
export const ListDetail = ListSummary.extend({
  edges: z.array(ListEdgeVersion).describe('The registered edges that apply this list (its edge, or every edge when edge_id is null); an edge\'s key sees only itself'),
}).openapi('ListDetail');
export type ListDetail = z.output<typeof ListDetail>;

/** Most entries in one page of `GET /config/lists/{id}/entries`. */
export const MAX_ENTRIES_PAGE = 10_000;

/** `GET /config/lists/{id}/entries`: one page in plate order, and the list version it was read at (also the ETag). */
export const ListEntriesPage = z
  .object({ items: z.array(ListEntry), total: z.number().int(), skip: z.number().int(), limit: z.number().int(), version: z.string() })
  .openapi('ListEntriesPage');

/** What a `POST|PUT /config/lists/{id}/entries` changed; the version moves only when something did. */
export const ListEntriesResult = z
  .object({
    list: ListSummary,
    added: z.number().int().describe('Plates new to the list'),
    updated: z.number().int().describe('Plates whose entry changed'),
    removed: z.number().int().describe('Plates taken off (PUT: not in the new set)'),
    unchanged: z.number().int().describe('Entries equal to the stored ones'),
  })
  .openapi('ListEntriesResult');
