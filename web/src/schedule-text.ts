/**
 * An entry's weekly schedule as text, the same form the cloud's CSV import and export use
 * (cloud/lists/schedule-text.ts): `mon-fri 07:00-19:00; sat 08:00-12:00`.
 *
 * Windows are separated by `;`; each is DAYS FROM-TO with DAYS a comma-separated list of days
 * and ranges (`fri-mon` wraps). FROM after TO runs over midnight. Only the shape is checked
 * here; the API validates the times and names the bad field.
 */
import type { ScheduleWindow } from './types.js';

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
type Day = (typeof DAYS)[number];
const WINDOW = /^([a-z,\s-]+?)\s+(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})$/;

export function formatSchedule(windows: readonly ScheduleWindow[]): string {
  return windows
    .map((w) => {
      const on = DAYS.map((d) => w.days.includes(d));
      const parts: string[] = [];
      for (let i = 0; i < 7; i++) {
        if (!on[i]) continue;
        let j = i;
        while (j + 1 < 7 && on[j + 1]) j++;
        if (j - i >= 2) parts.push(`${DAYS[i]}-${DAYS[j]}`);
        else for (let k = i; k <= j; k++) parts.push(DAYS[k]!);
        i = j;
      }
      return `${parts.join(',')} ${w.from}-${w.to}`;
    })
    .join('; ');
}

/** The windows of a schedule text; throws an Error saying which window is malformed. */
export function parseSchedule(text: string): ScheduleWindow[] {
  if (!text.trim()) return [];
  return text.split(';').map((raw, n) => {
    const m = WINDOW.exec(raw.trim().toLowerCase());
    if (!m) throw new Error(`window ${n + 1} '${raw.trim()}': expected DAYS HH:MM-HH:MM, e.g. mon-fri 07:00-19:00`);
    const days: Day[] = [];
    for (const item of m[1]!.split(',')) {
      const [a, b, ...rest] = item.split('-').map((s) => s.trim());
      const ia = DAYS.indexOf(a as Day);
      const ib = b === undefined ? ia : DAYS.indexOf(b as Day);
      if (rest.length || ia < 0 || ib < 0) throw new Error(`window ${n + 1}: '${item.trim()}' is not a day (mon … sun) or a range (mon-fri)`);
      for (let i = ia; ; i = (i + 1) % 7) {
        if (!days.includes(DAYS[i]!)) days.push(DAYS[i]!);
        if (i === ib) break;
      }
    }
    const pad = (t: string) => (t.length === 4 ? `0${t}` : t);
    return { days: days.sort((x, y) => DAYS.indexOf(x) - DAYS.indexOf(y)), from: pad(m[2]!), to: pad(m[3]!) };
  });
}
