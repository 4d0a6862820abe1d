import t from 'tap';
import { ListIndex, type AccessRead } from '../../../shared/access/list-index.js';
import { ListCreate, ListSnapshot, type ListCreateInput, type ListEntryInput } from '../../../shared/schemas/lists.js';

let lists = 0;
/** A list as the edge caches it, through the one schema (plates normalised on the way in). */
function list(p: Omit<Partial<ListCreateInput>, 'entries'> & { entries: Array<ListEntryInput | string> }): ListSnapshot {
  const c = ListCreate.parse({ name: `List ${lists + 1}`, type: 'allow', ...p, entries: p.entries.map((e) => (typeof e === 'string' ? { plate: e } : e)) });
  const stamp = '2026-01-01T00:00:00Z';
  return ListSnapshot.parse({ ...c, id: c.id ?? `list-${++lists}`, entries_count: c.entries.length, version: 'v1', created_at: stamp, updated_at: stamp });
}

const read = (plate: string, more: Partial<AccessRead> = {}): AccessRead => ({ plate, at: new Date('2026-06-01T12:00:00Z'), cameraId: 'cam-a', direction: 'in', siteTimeZone: 'UTC', ...more });
const plates = (ix: ListIndex, r: AccessRead) => ix.lookup(r).map((m) => `${m.entry.plate}@${m.distance}`);

t.test('normalisation: AB–123, ab 123 and AB123 are one plate on both sides', async (t) => {
  const ix = new ListIndex([list({ entries: ['AB–123'] })]);
  for (const r of ['AB123', 'ab 123', 'AB–123', 'a.b_1-2 3']) t.same(plates(ix, read(r)), ['AB123@0'], `read ${r}`);
  // A snapshot that skipped the schema: the index normalises its plates itself.
  const raw = list({ entries: ['AB123'] });
  raw.entries[0].plate = 'ab–123';
  t.same(plates(new ListIndex([raw]), read('AB 123')), ['ab–123@0'], 'an entry written ab–123 matches the read AB 123');
  t.same(plates(ix, read('—')), [], 'a read of no letters or digits matches nothing');
});

t.test('exact mode (the default): look-alikes and other edits do not match', async (t) => {
  const ix = new ListIndex([list({ entries: ['AB0123'] })]);
  t.same(plates(ix, read('AB0123')), ['AB0123@0']);
  t.same(plates(ix, read('ABO123')), [], 'O for 0 is an edit in exact mode');
  t.same(plates(ix, read('AB0124')), []);
  t.same(plates(ix, read('AB01234')), []);
});

t.test('confusable mode at cost 0: look-alike swaps are free', async (t) => {
  const ix = new ListIndex([list({ match: { mode: 'confusable', confusable_cost: 0, max_distance: 0 }, entries: ['SB0123'] })]);
  t.same(plates(ix, read('S8O123')), ['SB0123@0'], 'B/8 and 0/O');
  t.same(plates(ix, read('5BD1Z3')), ['SB0123@0'], 'S/5, D/0, 2/Z');
  t.same(plates(ix, read('SB0124')), [], 'an ordinary substitution is not free');
});

t.test('confusable mode at a fraction: swaps add up against max_distance', async (t) => {
  const ix = new ListIndex([list({ match: { mode: 'confusable', confusable_cost: 0.25, max_distance: 0.5 }, entries: ['SB0123'] })]);
  t.same(plates(ix, read('SB0123')), ['SB0123@0']);
  t.same(plates(ix, read('SBO123')), ['SB0123@0.25']);
  t.same(plates(ix, read('S8O123')), ['SB0123@0.5'], 'two swaps = 0.5');
  t.same(plates(ix, read('S8OI23')), [], 'three swaps = 0.75 > 0.5');
  const tenth = new ListIndex([list({ match: { mode: 'confusable', confusable_cost: 0.1, max_distance: 0.3 }, entries: ['SB0123'] })]);
  t.same(plates(tenth, read('58O123')), ['SB0123@0.3'], 'three swaps at 0.1 fit 0.3 (floating point tolerance), reported rounded');
});

t.test('max_distance: ordinary edits cost 1 each, in either mode', async (t) => {
  const fuzzy = new ListIndex([list({ match: { mode: 'confusable', confusable_cost: 0.5, max_distance: 1 }, entries: ['AB1234'] })]);
  t.same(plates(fuzzy, read('AB1239')), ['AB1234@1'], 'one substitution');
  t.same(plates(fuzzy, read('AB12345')), ['AB1234@1'], 'one insertion');
  t.same(plates(fuzzy, read('AB124')), ['AB1234@1'], 'one deletion');
  t.same(plates(fuzzy, read('A81234')), ['AB1234@0.5'], 'a look-alike at its price');
  t.same(plates(fuzzy, read('A81239')), [], 'a swap and a substitution: 1.5 > 1');
  t.same(plates(fuzzy, read('XB1239')), [], 'two substitutions');
  const exact = new ListIndex([list({ match: { mode: 'exact', confusable_cost: 0, max_distance: 1 }, entries: ['AB1234'] })]);
  t.same(plates(exact, read('A81234')), ['AB1234@1'], 'exact mode: a look-alike is one ordinary edit');
  t.same(plates(exact, read('AB124')), ['AB1234@1']);
  t.same(plates(exact, read('A8124')), []);
  const two = new ListIndex([list({ match: { mode: 'confusable', confusable_cost: 0, max_distance: 2 }, entries: ['AB1234'] })]);
  t.same(plates(two, read('XB12345')), ['AB1234@2'], 'max_distance 2: a substitution and an insertion');
  t.same(plates(two, read('XY12345')), []);
});

t.test('each entry comes once, with its lowest cost', async (t) => {
  const ix = new ListIndex([list({ match: { mode: 'confusable', confusable_cost: 1, max_distance: 2 }, entries: ['AB0', 'ABO9'] })]);
  t.same(plates(ix, read('ABO')), ['AB0@1', 'ABO9@1'], 'AB0 by one substitution (not a deletion and an insertion), ABO9 by one deletion');
});

t.test('validity: valid_from inclusive, valid_until exclusive', async (t) => {
  const ix = new ListIndex([list({ entries: [{ plate: 'AB123', valid_from: '2026-06-01T08:00:00Z', valid_until: '2026-06-01T17:00:00Z' }] })]);
  t.same(plates(ix, read('AB123', { at: new Date('2026-06-01T08:00:00.000Z') })), ['AB123@0'], 'at valid_from');
  t.same(plates(ix, read('AB123', { at: new Date('2026-06-01T16:59:59.999Z') })), ['AB123@0']);
  t.same(plates(ix, read('AB123', { at: new Date('2026-06-01T07:59:59.999Z') })), [], 'before valid_from');
  t.same(plates(ix, read('AB123', { at: new Date('2026-06-01T17:00:00.000Z') })), [], 'at valid_until');
  const open = new ListIndex([list({ entries: [{ plate: 'AB123', valid_from: '2026-06-01T08:00:00+02:00' }] })]);
  t.same(plates(open, read('AB123', { at: new Date('2030-01-01T00:00:00Z') })), ['AB123@0'], 'no valid_until: never ends');
  t.same(plates(open, read('AB123', { at: new Date('2026-06-01T05:59:59Z') })), [], 'valid_from with an offset');
});

t.test("schedules: in the list's time zone, else the site's", async (t) => {
  const entries = [{ plate: 'AB123', schedule: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'] as const, from: '07:00', to: '19:00' }] }];
  const site = new ListIndex([list({ entries: structuredClone(entries) as never })]);
  const ny = new ListIndex([list({ timezone: 'America/New_York', entries: structuredClone(entries) as never })]);
  const monday22z = new Date('2026-06-01T22:00:00Z'); // Tuesday 00:00 in Berlin, Monday 18:00 in New York
  t.same(plates(site, read('AB123', { at: monday22z, siteTimeZone: 'Europe/Berlin' })), [], 'site Berlin: past midnight');
  t.same(plates(site, read('AB123', { at: monday22z, siteTimeZone: 'America/New_York' })), ['AB123@0'], 'site New York: 18:00');
  t.same(plates(ny, read('AB123', { at: monday22z, siteTimeZone: 'Europe/Berlin' })), ['AB123@0'], "the list's own zone beats the site's");
  t.same(plates(ny, read('AB123', { at: new Date('2026-06-01T10:59:00Z'), siteTimeZone: 'UTC' })), [], 'New York 06:59');
});

t.test('direction: a list for one direction ignores the other and unknown ones', async (t) => {
  const ix = new ListIndex([list({ name: 'In', direction: 'in', entries: ['AB123'] }), list({ name: 'Any', entries: ['AB123'] })]);
  const names = (d: AccessRead['direction']) => ix.lookup(read('AB123', { direction: d })).map((m) => m.list.name);
  t.same(names('in'), ['In', 'Any']);
  t.same(names('out'), ['Any']);
  t.same(names(null), ['Any'], 'no direction known: only lists for any direction');
});

t.test('camera scope: camera_ids limits a list, empty means every camera', async (t) => {
  const ix = new ListIndex([list({ name: 'Gate A', camera_ids: ['cam-a'], entries: ['AB123'] }), list({ name: 'All', entries: ['AB123'] })]);
  const names = (cameraId: string | null) => ix.lookup(read('AB123', { cameraId })).map((m) => m.list.name);
  t.same(names('cam-a'), ['Gate A', 'All']);
  t.same(names('cam-b'), ['All']);
  t.same(names(null), ['All'], 'no camera known: only lists for every camera');
});

t.test('a disabled list matches nothing', async (t) => {
  const ix = new ListIndex([list({ name: 'Off', type: 'deny', enabled: false, entries: ['AB123'] }), list({ name: 'On', entries: ['AB123'] })]);
  t.same(ix.lookup(read('AB123')).map((m) => m.list.name), ['On']);
  t.equal(ix.size, 1);
});

t.test('order: lowest distance first, then deny, allow, watch', async (t) => {
  const fuzzy = { mode: 'confusable' as const, confusable_cost: 0.5, max_distance: 1 };
  const ix = new ListIndex([
    list({ name: 'Watch', type: 'watch', entries: ['AB123'] }),
    list({ name: 'Staff', type: 'allow', entries: ['AB123'] }),
    list({ name: 'Fuzzy ban', type: 'deny', match: fuzzy, entries: ['A8123'] }),
    list({ name: 'Banned', type: 'deny', entries: ['AB123'] }),
  ]);
  t.same(ix.lookup(read('AB123')).map((m) => `${m.list.name}@${m.distance}`), ['Banned@0', 'Staff@0', 'Watch@0', 'Fuzzy ban@0.5']);
});

t.test('many lists, fuzzy and exact side by side, at once', async (t) => {
  const ix = new ListIndex([
    list({ name: 'E', entries: ['AB123', 'CD456'] }),
    list({ name: 'C1', match: { mode: 'confusable', confusable_cost: 0, max_distance: 1 }, entries: ['AB1Z3', 'XY999'] }),
    list({ name: 'C2', match: { mode: 'confusable', confusable_cost: 0.5, max_distance: 2 }, entries: ['ABI23X'] }),
  ]);
  t.same(ix.lookup(read('AB123')).map((m) => `${m.list.name}:${m.entry.plate}@${m.distance}`), ['E:AB123@0', 'C1:AB1Z3@0', 'C2:ABI23X@1.5']);
});

t.test('bad reads are typed errors naming the field; long or empty reads match nothing', async (t) => {
  const ix = new ListIndex([list({ match: { mode: 'confusable', confusable_cost: 0, max_distance: 3 }, entries: ['AB123'] })]);
  t.throws(() => ix.lookup(read('AB123', { at: new Date('nope') })), { code: 'VALIDATION_ERROR', message: /^at:/ });
  t.throws(() => ix.lookup(read('AB123', { siteTimeZone: 'Nowhere/Else' })), { code: 'VALIDATION_ERROR', message: /siteTimeZone/ });
  t.same(ix.lookup(read('A'.repeat(200))), [], 'a read of 200 characters');
  t.same(ix.lookup(read('AB123'.repeat(40))), []);
  t.same(ix.lookup(read('')), []);
  t.same(new ListIndex([]).lookup(read('AB123')), [], 'no lists');
});

t.test('bad lists are refused whole with a typed error naming the entry', async (t) => {
  const bad = (mutate: (s: ListSnapshot) => void) => {
    const s = list({ entries: ['AB123', { plate: 'CD456', schedule: [{ days: ['mon'], from: '07:00', to: '08:00' }] }] });
    mutate(s);
    return () => new ListIndex([s]);
  };
  t.throws(bad((s) => (s.entries[1].schedule[0].from = '25:00')), { code: 'CONFIG_INVALID', message: /lists\[0\]\.entries\[1\]\.schedule\[0\]\.from/ });
  t.throws(bad((s) => (s.entries[0].plate = '--')), { code: 'CONFIG_INVALID', message: /lists\[0\]\.entries\[0\]\.plate/ });
  t.throws(bad((s) => (s.entries[0].plate = 'A'.repeat(200))), { code: 'CONFIG_INVALID', message: /entries\[0\]\.plate/ });
  t.throws(bad((s) => (s.entries[0].valid_until = 'tomorrow')), { code: 'CONFIG_INVALID', message: /entries\[0\]\.valid_until/ });
  t.throws(bad((s) => (s.timezone = 'Mars/Olympus')), { code: 'VALIDATION_ERROR', message: /lists\[0\]\.timezone/ });
  t.throws(bad((s) => (s.match.max_distance = 9)), { code: 'CONFIG_INVALID', message: /max_distance/ });
});
