import t from 'tap';
import { compileWindow, localTime, scheduleAllows } from '../../../shared/access/schedule.js';
import type { ScheduleWindow } from '../../../shared/schemas/lists.js';

const at = (iso: string) => new Date(iso);
const w = (days: ScheduleWindow['days'], from: string, to: string): ScheduleWindow => ({ days, from, to });
const allows = (win: ScheduleWindow, iso: string, tz: string) => scheduleAllows([win], at(iso), tz);

t.test('local time comes from the zone: weekday, hour and minute, midnight is 0', async (t) => {
  t.same(localTime(at('2026-06-01T12:34:00Z'), 'UTC'), { day: 0, minute: 12 * 60 + 34 }, '2026-06-01 is a Monday');
  t.same(localTime(at('2026-06-07T22:00:00Z'), 'Europe/Berlin'), { day: 0, minute: 0 }, 'Sunday 22:00Z is Monday 00:00 in Berlin');
});

t.test('a day window: from inclusive, to exclusive, only on its days; 24:00 is the end of the day', async (t) => {
  const office = w(['mon', 'tue', 'wed', 'thu', 'fri'], '07:00', '19:00');
  t.ok(allows(office, '2026-06-01T07:00:00Z', 'UTC'));
  t.ok(allows(office, '2026-06-01T18:59:59Z', 'UTC'));
  t.notOk(allows(office, '2026-06-01T06:59:59Z', 'UTC'));
  t.notOk(allows(office, '2026-06-01T19:00:00Z', 'UTC'));
  t.notOk(allows(office, '2026-06-06T12:00:00Z', 'UTC'), 'not on Saturday');
  const evening = w(['mon'], '18:00', '24:00');
  t.ok(allows(evening, '2026-06-01T23:59:59Z', 'UTC'));
  t.notOk(allows(evening, '2026-06-02T00:00:00Z', 'UTC'), 'Tuesday 00:00 is past Monday 24:00');
  t.ok(scheduleAllows([], at('2026-06-01T03:00:00Z'), 'UTC'), 'no windows: always');
  t.ok(scheduleAllows([w(['sat'], '01:00', '02:00'), office], at('2026-06-01T08:00:00Z'), 'UTC'), 'any window that covers');
});

t.test('from after to runs over midnight and belongs to the day it starts', async (t) => {
  const friNight = w(['fri'], '22:00', '06:00');
  t.ok(allows(friNight, '2026-06-05T23:00:00Z', 'UTC'), 'Friday 23:00');
  t.ok(allows(friNight, '2026-06-06T03:00:00Z', 'UTC'), 'Saturday 03:00');
  t.notOk(allows(friNight, '2026-06-05T03:00:00Z', 'UTC'), 'not Friday 03:00 (that belongs to Thursday night)');
  t.notOk(allows(friNight, '2026-06-06T06:00:00Z', 'UTC'), 'ends at Saturday 06:00');
  t.notOk(allows(friNight, '2026-06-06T23:00:00Z', 'UTC'), 'not Saturday night');
  t.ok(allows(w(['sun'], '22:00', '06:00'), '2026-06-08T02:00:00Z', 'UTC'), 'Sunday night runs into Monday (the week wraps)');
});

t.test('Europe/Berlin spring-forward (2026-03-29): 07:00-19:00 at the right UTC instants, 02:00-03:00 never happens', async (t) => {
  const day = w(['sat', 'sun'], '07:00', '19:00');
  t.ok(allows(day, '2026-03-28T06:00:00Z', 'Europe/Berlin'), 'Saturday 07:00 CET is 06:00Z');
  t.notOk(allows(day, '2026-03-28T05:59:59Z', 'Europe/Berlin'));
  t.notOk(allows(day, '2026-03-29T04:59:59Z', 'Europe/Berlin'), 'Sunday 06:59:59 CEST');
  t.ok(allows(day, '2026-03-29T05:00:00Z', 'Europe/Berlin'), 'Sunday 07:00 CEST is 05:00Z');
  t.ok(allows(day, '2026-03-29T16:59:59Z', 'Europe/Berlin'));
  t.notOk(allows(day, '2026-03-29T17:00:00Z', 'Europe/Berlin'), 'Sunday 19:00 CEST is 17:00Z');
  const gap = w(['sun'], '02:00', '03:00');
  let covered = 0;
  for (let ms = Date.parse('2026-03-28T23:00:00Z'); ms <= Date.parse('2026-03-29T03:00:00Z'); ms += 60_000) if (scheduleAllows([gap], new Date(ms), 'Europe/Berlin')) covered++;
  t.equal(covered, 0, 'local 02:00-03:00 does not exist that night: no instant is inside');
  t.ok(allows(w(['sun'], '01:00', '03:30'), '2026-03-29T01:00:00Z', 'Europe/Berlin'), '03:00 CEST follows 01:59:59 CET');
});

t.test('Europe/Berlin fall-back (2026-10-25): 02:00-03:00 covers both 02:30s; 07:00-19:00 at the right UTC instants', async (t) => {
  const night = w(['sun'], '02:00', '03:00');
  t.ok(allows(night, '2026-10-25T00:30:00Z', 'Europe/Berlin'), 'the first 02:30 (CEST)');
  t.ok(allows(night, '2026-10-25T01:30:00Z', 'Europe/Berlin'), 'the second 02:30 (CET)');
  t.ok(allows(night, '2026-10-25T00:00:00Z', 'Europe/Berlin'), '02:00 CEST');
  t.notOk(allows(night, '2026-10-24T23:59:59Z', 'Europe/Berlin'), '01:59:59 CEST');
  t.notOk(allows(night, '2026-10-25T02:00:00Z', 'Europe/Berlin'), '03:00 CET');
  const day = w(['sat', 'sun'], '07:00', '19:00');
  t.ok(allows(day, '2026-10-24T05:00:00Z', 'Europe/Berlin'), 'Saturday 07:00 CEST is 05:00Z');
  t.notOk(allows(day, '2026-10-25T05:00:00Z', 'Europe/Berlin'), 'Sunday 06:00 CET');
  t.ok(allows(day, '2026-10-25T06:00:00Z', 'Europe/Berlin'), 'Sunday 07:00 CET is 06:00Z');
  t.ok(allows(day, '2026-10-25T17:59:59Z', 'Europe/Berlin'));
  t.notOk(allows(day, '2026-10-25T18:00:00Z', 'Europe/Berlin'), 'Sunday 19:00 CET is 18:00Z');
});

t.test('America/New_York: office hours across the March change, a night window across the November one', async (t) => {
  const office = w(['mon', 'tue', 'wed', 'thu', 'fri'], '09:00', '17:00');
  t.ok(allows(office, '2026-03-06T14:00:00Z', 'America/New_York'), 'Friday 09:00 EST is 14:00Z');
  t.notOk(allows(office, '2026-03-06T13:59:00Z', 'America/New_York'));
  t.ok(allows(office, '2026-03-09T13:00:00Z', 'America/New_York'), 'Monday 09:00 EDT is 13:00Z');
  t.notOk(allows(office, '2026-03-09T12:59:00Z', 'America/New_York'));
  t.notOk(allows(office, '2026-03-09T21:00:00Z', 'America/New_York'), 'Monday 17:00 EDT is 21:00Z');
  const satNight = w(['sat'], '22:00', '06:00');
  t.ok(allows(satNight, '2026-11-01T10:30:00Z', 'America/New_York'), 'Sunday 05:30 EST (after the change) is still Saturday night');
  t.notOk(allows(satNight, '2026-11-01T11:00:00Z', 'America/New_York'), 'Sunday 06:00 EST');
  t.ok(allows(satNight, '2026-11-01T02:00:00Z', 'America/New_York'), 'Saturday 22:00 EDT');
});

t.test('bad windows and zones are typed errors naming the field', async (t) => {
  t.throws(() => compileWindow(w(['mon'], '25:00', '26:00'), 'lists[0].entries[1].schedule[0]'), { code: 'CONFIG_INVALID', message: /lists\[0\]\.entries\[1\]\.schedule\[0\]\.from/ });
  t.throws(() => compileWindow(w(['mon'], '07:00', '07:00')), { code: 'CONFIG_INVALID', message: /schedule\.to/ });
  t.throws(() => compileWindow(w(['mon'], '24:00', '06:00')), { code: 'CONFIG_INVALID', message: /schedule\.from/ });
  t.throws(() => compileWindow({ days: ['someday' as 'mon'], from: '07:00', to: '08:00' }), { code: 'CONFIG_INVALID', message: /days/ });
  t.throws(() => compileWindow({ days: [], from: '07:00', to: '08:00' }), { code: 'CONFIG_INVALID' });
  t.throws(() => localTime(new Date(), 'Mars/Olympus', 'siteTimeZone'), { code: 'VALIDATION_ERROR', message: /siteTimeZone/ });
  t.same(compileWindow(w(['mon', 'sun'], '00:00', '24:00')), { days: 0b1000001, from: 0, to: 1440 });
});
