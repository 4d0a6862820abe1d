/**
 * Weekly schedule windows of list entries, evaluated at an instant in a time zone.
 *
 * Guarantees:
 * - The local weekday and time come from `Intl.DateTimeFormat` for the zone (one cached
 *   formatter per zone), so daylight-saving changes follow the zone's real rules: on a
 *   fall-back day a local time that happens twice (Europe/Berlin 2026-10-25 02:30) is inside a
 *   window covering it both times; on a spring-forward day a local time that never happens
 *   (02:30 on 2026-03-29) is never inside, and 07:00–19:00 starts and ends at the UTC instants
 *   the local clock shows 07:00 and 19:00 that day.
 * - `from` before `to`: the window covers `from` ≤ local time < `to` on each named day; `to`
 *   may be `24:00` (to the end of the day).
 * - `from` after `to` runs over midnight and belongs to the day it starts on: Fri 22:00–06:00
 *   covers Friday from 22:00 and Saturday until 06:00, but not Friday 03:00.
 * - An entry with no windows is active at any time; with windows, when any one covers.
 * - A malformed window (a time outside 00:00–24:00, `from` equal to `to`, an unknown day) or an
 *   unknown time zone is a typed error (`CONFIG_INVALID` / `VALIDATION_ERROR`) naming it,
 *   never a window that silently never (or always) matches.
 */
import { AppError } from '../errors.js';
import { WEEKDAYS, type ScheduleWindow, type Weekday } from '../schemas/lists.js';

/** A window compiled for evaluation: day bitmask (bit 0 = Monday) and minutes since local midnight. */
export interface CompiledWindow {
  days: number;
  from: number;
  to: number;
}

/** Local weekday (0 = Monday) and minute of the day of an instant in a zone. */
export interface LocalTime {
  day: number;
  minute: number;
}

const CLOCK = /^(?:([01]\d|2[0-3]):([0-5]\d)|(24):(00))$/;

function minutesOf(t: unknown, field: string): number {
  const m = typeof t === 'string' ? CLOCK.exec(t) : null;
  if (!m) throw new AppError('CONFIG_INVALID', `${field}: must be HH:MM between 00:00 and 24:00, not ${JSON.stringify(t)}`, { errors: [{ field, message: `${field}: must be HH:MM between 00:00 and 24:00` }] });
  return Number(m[1] ?? m[3]) * 60 + Number(m[2] ?? m[4]);
}

/** Checks and compiles one window; `field` names it in the error (e.g. `lists[0].entries[3].schedule[1]`). */
export function compileWindow(w: ScheduleWindow, field = 'schedule'): CompiledWindow {
  let days = 0;
  if (!Array.isArray(w?.days) || w.days.length === 0) throw new AppError('CONFIG_INVALID', `${field}.days: name at least one day`, { errors: [{ field: `${field}.days`, message: 'name at least one day' }] });
  for (const d of w.days) {
    const i = WEEKDAYS.indexOf(d as Weekday);
    if (i < 0) throw new AppError('CONFIG_INVALID', `${field}.days: unknown day ${JSON.stringify(d)} (one of ${WEEKDAYS.join(', ')})`, { errors: [{ field: `${field}.days`, message: 'unknown day' }] });
    days |= 1 << i;
  }
  const from = minutesOf(w.from, `${field}.from`);
  const to = minutesOf(w.to, `${field}.to`);
  if (from === 24 * 60) throw new AppError('CONFIG_INVALID', `${field}.from: must be before 24:00`, { errors: [{ field: `${field}.from`, message: 'must be before 24:00' }] });
  if (from === to) throw new AppError('CONFIG_INVALID', `${field}.to: must differ from from (00:00-24:00 is the whole day)`, { errors: [{ field: `${field}.to`, message: 'must differ from from' }] });
  return { days, from, to };
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const SHORT_DAYS: Record<string, number> = { Mon: 0, Tue: 1, Wed: 2, Thu: 3, Fri: 4, Sat: 5, Sun: 6 };

/** Throws a `VALIDATION_ERROR` naming `field` unless `timeZone` is a zone this runtime knows. */
export function checkTimeZone(timeZone: string, field: string): void {
  formatterOf(timeZone, field);
}

/** The cached formatter of `timeZone`; an unknown zone is a `VALIDATION_ERROR` naming `field`. */
function formatterOf(timeZone: string, field: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    try {
      if (typeof timeZone !== 'string') throw new TypeError('not a string');
      f = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    } catch {
      throw new AppError('VALIDATION_ERROR', `${field}: unknown time zone ${JSON.stringify(timeZone)} (an IANA name such as Europe/Berlin or UTC)`, { errors: [{ field, message: `${field}: unknown time zone` }] });
    }
    formatters.set(timeZone, f);
  }
  return f;
}

/** The local weekday and minute of `at` in `timeZone`. */
export function localTime(at: Date, timeZone: string, field = 'timeZone'): LocalTime {
  let day = -1;
  let hour = 0;
  let minute = 0;
  for (const p of formatterOf(timeZone, field).formatToParts(at)) {
    if (p.type === 'weekday') day = SHORT_DAYS[p.value] ?? -1;
    else if (p.type === 'hour') hour = Number(p.value) % 24; // some ICU versions say 24 for midnight
    else if (p.type === 'minute') minute = Number(p.value);
  }
  if (day < 0) throw new Error(`localTime: no weekday for ${at.toISOString()} in ${timeZone}`);
  return { day, minute: hour * 60 + minute };
}

/** Whether one compiled window covers a local time. */
export function windowCovers(w: CompiledWindow, t: LocalTime): boolean {
  if (w.from < w.to) return (w.days & (1 << t.day)) !== 0 && t.minute >= w.from && t.minute < w.to;
  // Over midnight: the evening part on a named day, the morning part on the day after one.
  if ((w.days & (1 << t.day)) !== 0 && t.minute >= w.from) return true;
  const dayBefore = (t.day + 6) % 7;
  return (w.days & (1 << dayBefore)) !== 0 && t.minute < w.to;
}

/** Whether any window covers the local time (no windows: always). */
export function scheduleCovers(windows: readonly CompiledWindow[], t: LocalTime): boolean {
  if (windows.length === 0) return true;
  for (const w of windows) if (windowCovers(w, t)) return true;
  return false;
}

/** Whether a schedule allows the instant `at` in `timeZone` (convenience over compile + localTime). */
export function scheduleAllows(schedule: readonly ScheduleWindow[], at: Date, timeZone: string): boolean {
  if (schedule.length === 0) return true;
  return scheduleCovers(schedule.map((w, i) => compileWindow(w, `schedule[${i}]`)), localTime(at, timeZone));
}
