/** The days of a schedule window, in week order (no dependency: the web app imports it too). */
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** A window of an entry's schedule (validated by shared/schemas/lists.ts ScheduleWindow). */
export interface ScheduleWindowText {
  days: Weekday[];
  from: string;
  to: string;
}
