/**
 * The text form of an entry's schedule, as the CSV import and export write it:
 *
 *     mon-fri 07:00-19:00; sat 08:00-12:00
 *
 * - Windows are separated by `;`. Each is `DAYS FROM-TO`: DAYS a comma-separated list of days
 *   (`mon` … `sun`) and day ranges (`mon-fri`; `fri-mon` wraps over the weekend), FROM and TO
 *   `HH:MM` (`24:00` = the end of the day). Case and spaces around the separators do not matter.
 * - FROM after TO runs over midnight (`fri 22:00-06:00` covers Saturday 03:00: the window
 *   belongs to the day it starts on), as in shared/schemas/lists.ts.
 * - An empty text is no schedule (the entry applies at any time).
 * - `formatSchedule` writes days in week order, runs of three or more as a range; parsing what
 *   it writes gives the same windows back (the export → import round trip).
 *
 * Only the shape is checked here; the times and days are then validated by `ScheduleWindow`.
 * No dependency besides the day names (./weekdays.ts): the back office (web/) imports this very file.
 */
import { WEEKDAYS, type ScheduleWindowText as ScheduleWindow, type Weekday } from './weekdays.js';

const DAY_INDEX = new Map<string, number>(WEEKDAYS.map((d, i) => [d, i]));
const WINDOW = /^([a-z,\s-]+?)\s+(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})$/;

/** A schedule text that does not have the shape above: `message` says what is wrong. */
export class ScheduleTextError extends Error {
  override name = 'ScheduleTextError';
}

/** Days in week order; runs of 3+ as `mon-fri`, others listed (`sat,sun`). */
function formatDays(days: readonly Weekday[]): string {
  const on = WEEKDAYS.map((d) => days.includes(d));
  const parts: string[] = [];
  for (let i = 0; i < 7; ) {
    if (!on[i]) {
      i++;
      continue;
    }
    let j = i;
    while (j + 1 < 7 && on[j + 1]) j++;
    if (j - i >= 2) parts.push(`${WEEKDAYS[i]}-${WEEKDAYS[j]}`);
    else for (let k = i; k <= j; k++) parts.push(WEEKDAYS[k]!);
    i = j + 1;
  }
  return parts.join(',');
}

export function formatSchedule(windows: readonly ScheduleWindow[]): string {
  return windows.map((w) => `${formatDays(w.days)} ${w.from}-${w.to}`).join('; ');
}

function parseDays(text: string, where: string): Weekday[] {
  const out: Weekday[] = [];
  for (const raw of text.split(',')) {
    const item = raw.trim();
    const [a, b, ...rest] = item.split('-').map((s) => s.trim());
    const ia = DAY_INDEX.get(a ?? '');
    const ib = b === undefined ? ia : DAY_INDEX.get(b);
    if (rest.length || ia === undefined || ib === undefined) {
      throw new ScheduleTextError(`${where}: '${item}' is not a day (mon, tue, wed, thu, fri, sat, sun) or a range of days (mon-fri)`);
    }
    for (let i = ia; ; i = (i + 1) % 7) {
      if (!out.includes(WEEKDAYS[i]!)) out.push(WEEKDAYS[i]!);
      if (i === ib) break;
    }
  }
  return out.sort((x, y) => DAY_INDEX.get(x)! - DAY_INDEX.get(y)!);
}

/** `HH:MM` with a one-digit hour padded (7:00 → 07:00); anything else is left for the schema to refuse. */
const pad = (t: string) => (t.length === 4 ? `0${t}` : t);

/**
 * The windows of a schedule text, or a ScheduleTextError naming the window (1-based) and what
 * is wrong with it. Times are not range-checked here (25:00 comes back as is for the schema).
 */
export function parseSchedule(text: string): Array<{ days: Weekday[]; from: string; to: string }> {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  return trimmed.split(';').map((raw, i) => {
    const w = raw.trim().toLowerCase();
    const where = `window ${i + 1}`;
    const m = WINDOW.exec(w);
    if (!m) throw new ScheduleTextError(`${where} '${raw.trim()}': expected DAYS HH:MM-HH:MM, e.g. mon-fri 07:00-19:00`);
    return { days: parseDays(m[1]!, where), from: pad(m[2]!), to: pad(m[3]!) };
  });
}
