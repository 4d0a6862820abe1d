/**
 * Time-boxed property test: the ListIndex never misses. For random lists (exact and confusable,
 * every cost and max_distance, camera scopes, directions, validity, schedules, disabled lists)
 * and random reads (near and far, in any formatting), `lookup` returns exactly the entries a
 * brute-force scan of every entry finds, each with the same cost. The scan prices edits with
 * its own plain dynamic programme over shared/plate `areConfusable`.
 *
 * Each round has its own seed (the run's first seed, then +1...), printed at the start; the
 * failure names the command that replays it alone:
 * ACCESS_PROPERTY_SEED=N npx tap test/shared/access/lookup-property.test.ts
 */
import t from 'tap';
import { ListIndex, type AccessRead } from '../../../shared/access/list-index.js';
import { scheduleAllows } from '../../../shared/access/schedule.js';
import { areConfusable, normalizePlate } from '../../../shared/plate/index.js';
import { WEEKDAYS, type ListEntry, type ListSnapshot, type ScheduleWindow } from '../../../shared/schemas/lists.js';
import { prng } from '../../fixtures/prng.js';

const FIXED = process.env.ACCESS_PROPERTY_SEED;
if (FIXED !== undefined && !/^\d+$/.test(FIXED)) throw new Error(`ACCESS_PROPERTY_SEED must be a whole number, not ${FIXED}`);

/** Look-alikes, their partners and a few plain characters: random plates collide often. */
const ALPHABET = [...'AB0O8SZ25I1XDQ7'];
const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York'];

/** The reference cost: full DP, no cut-off, no index. */
function referenceDistance(a: string, b: string, confusable: boolean, swap: number): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const sub = a[i - 1] === b[j - 1] ? 0 : confusable && areConfusable(a[i - 1], b[j - 1]) ? swap : 1;
      d[i][j] = Math.min(d[i - 1][j - 1] + sub, d[i - 1][j] + 1, d[i][j - 1] + 1);
    }
  }
  return d[a.length][b.length];
}

function round(seed: number): string | null {
  const rand = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const plate = () => Array.from({ length: int(1, 8) }, () => pick(ALPHABET)).join('');
  const dress = (p: string) => [...p].map((c) => (rand() < 0.15 ? pick([' ', '-', '–', '.']) : '') + (rand() < 0.3 ? c.toLowerCase() : c)).join('');
  const edit = (p: string): string => {
    const at = int(0, p.length);
    const r = rand();
    if (r < 0.4) return p.slice(0, at) + pick(ALPHABET) + p.slice(at + 1); // substitute (maybe a look-alike)
    if (r < 0.7) return p.slice(0, at) + pick(ALPHABET) + p.slice(at); // insert
    return p.slice(0, at) + p.slice(at + 1); // delete
  };
  const base = Date.parse('2026-03-25T00:00:00Z');
  const instant = () => new Date(base + Math.floor(rand() * 40 * 86_400_000));
  const window = (): ScheduleWindow => {
    const from = int(0, 47) * 30;
    let to = int(1, 48) * 30;
    if (to === from) to = (from + 30) % 1440 || 1440;
    const hhmm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
    return { days: WEEKDAYS.filter(() => rand() < 0.5).concat(pick(WEEKDAYS)), from: hhmm(from), to: hhmm(to) };
  };

  const snapshots: ListSnapshot[] = Array.from({ length: int(1, 5) }, (_, li) => {
    const entries: ListEntry[] = Array.from({ length: int(0, 40) }, () => {
      const from = rand() < 0.2 ? instant() : null;
      const until = rand() < 0.2 ? new Date((from?.getTime() ?? base) + int(1, 20) * 86_400_000) : null;
      return {
        plate: dress(plate()),
        label: null,
        valid_from: from?.toISOString() ?? null,
        valid_until: until?.toISOString() ?? null,
        schedule: rand() < 0.2 ? Array.from({ length: int(1, 2) }, window) : [],
        rfid: null,
      };
    });
    return {
      id: `l${li}`,
      name: `L${li}`,
      type: pick(['allow', 'deny', 'watch'] as const),
      edge_id: null,
      camera_ids: rand() < 0.3 ? [pick(['cam-a', 'cam-b'])] : [],
      direction: pick(['any', 'any', 'in', 'out'] as const),
      match: {
        mode: rand() < 0.7 ? 'confusable' : 'exact',
        confusable_cost: pick([0, 0, 0.1, 0.25, 0.5, 1, Math.round(rand() * 100) / 100]),
        max_distance: pick([0, 0, 0.3, 0.5, 1, 1, 1.5, 2, 2.5, 3]),
      },
      timezone: rand() < 0.5 ? pick(ZONES) : null,
      enabled: rand() < 0.9,
      entries,
      entries_count: entries.length,
      version: 'v',
      created_at: '2026-01-01T00:00:00Z',
      updated_at: '2026-01-01T00:00:00Z',
    };
  });
  const ix = new ListIndex(snapshots);
  const where = new Map<ListEntry, string>();
  snapshots.forEach((s, li) => s.entries.forEach((e, ei) => where.set(e, `${li}.${ei}`)));
  const all = snapshots.flatMap((s) => s.entries.map((e) => normalizePlate(e.plate)));

  for (let r = 0; r < 60; r++) {
    let text = all.length && rand() < 0.7 ? pick(all) : plate();
    for (let k = int(0, 3); k > 0; k--) text = edit(text);
    const read: AccessRead = { plate: dress(text), at: instant(), cameraId: pick(['cam-a', 'cam-b', null]), direction: pick(['in', 'out', null] as const), siteTimeZone: pick(ZONES) };
    const q = normalizePlate(read.plate);
    const want: string[] = [];
    snapshots.forEach((s, li) => {
      if (!s.enabled || q === '') return;
      if (s.camera_ids.length && (read.cameraId === null || !s.camera_ids.includes(read.cameraId))) return;
      if (s.direction !== 'any' && s.direction !== read.direction) return;
      s.entries.forEach((e, ei) => {
        const t = read.at.getTime();
        if (e.valid_from && t < Date.parse(e.valid_from)) return;
        if (e.valid_until && t >= Date.parse(e.valid_until)) return;
        if (!scheduleAllows(e.schedule, read.at, s.timezone ?? read.siteTimeZone)) return;
        const d = referenceDistance(q, normalizePlate(e.plate), s.match.mode === 'confusable', s.match.confusable_cost);
        if (d <= s.match.max_distance + 1e-9) want.push(`${li}.${ei}@${Math.round(d * 1e6) / 1e6}`);
      });
    });
    const matches = ix.lookup(read);
    const got = matches.map((m) => `${where.get(m.entry)}@${m.distance}`);
    if (JSON.stringify([...got].sort()) !== JSON.stringify(want.sort())) {
      return `read ${JSON.stringify(read.plate)} (${q}): lookup ${JSON.stringify(got.sort())} != scan ${JSON.stringify(want)}; lists ${JSON.stringify(snapshots.map((s) => ({ match: s.match, plates: s.entries.map((e) => normalizePlate(e.plate)) })))}`;
    }
    for (let i = 1; i < matches.length; i++) if (matches[i].distance < matches[i - 1].distance) return `read ${q}: matches not sorted by distance`;
  }
  return null;
}

t.test('lookup equals a brute-force scan of every entry (the index never misses)', async (t) => {
  const first = FIXED !== undefined ? Number(FIXED) : Date.now() % 1_000_000;
  const until = Date.now() + 4_000;
  t.comment(`first seed ${first}${FIXED !== undefined ? ' (ACCESS_PROPERTY_SEED: that round only)' : ''}`);
  let rounds = 0;
  for (let seed = first; rounds === 0 || (FIXED === undefined && Date.now() < until); seed++) {
    rounds++;
    const failure = round(seed);
    if (failure) {
      t.fail(`seed ${seed}: ${failure}. Replay: ACCESS_PROPERTY_SEED=${seed} npx tap test/shared/access/lookup-property.test.ts`);
      return;
    }
  }
  t.ok(rounds > 0, `${rounds} random rounds of 60 reads`);
});
