import t from 'tap';
import { decide } from '../../../shared/access/decide.js';
import { ListIndex, type AccessMatch } from '../../../shared/access/list-index.js';
import { Decision, ListEntry, ListSnapshot, type ListEntryInput, type ListType } from '../../../shared/schemas/lists.js';

/** One match as `lookup` gives it. */
function m(type: ListType, name: string, entry: ListEntryInput, distance = 0): AccessMatch {
  return { list: { id: name.toLowerCase().replace(/\W/g, '-'), name, type }, entry: ListEntry.parse(entry), distance };
}

const alice = { plate: 'AB123', label: 'Alice' };
const open = { canOpen: true };

t.test('no match: nothing happens', async (t) => {
  t.same(decide([], open), { action: 'none', list: null, entry_label: null, matched_plate: null, distance: null, alert: false, reason: 'no list matched' });
});

t.test('allow opens, and only where the place can open', async (t) => {
  const d = decide([m('allow', 'Staff', alice)], open);
  t.match(d, { action: 'open', list: { id: 'staff', name: 'Staff', type: 'allow' }, entry_label: 'Alice', matched_plate: 'AB123', distance: 0, alert: false, reason: 'allowed by list Staff (entry Alice)' });
  const shut = decide([m('allow', 'Staff', alice)], { canOpen: false });
  t.equal(shut.action, 'none', 'no barrier here: allowed, but nothing opens');
  t.match(shut.reason, /^allowed by list Staff/);
});

t.test('deny beats allow, also an exact allow against a look-alike deny', async (t) => {
  const d = decide([m('allow', 'Staff', alice), m('deny', 'Banned', { plate: 'AB123' })], open);
  t.match(d, { action: 'deny', list: { name: 'Banned', type: 'deny' }, alert: false, reason: 'denied by list Banned' });
  const fuzzy = decide([m('allow', 'Staff', alice, 0), m('deny', 'Stolen plates', { plate: 'A8123' }, 0.5)], open);
  t.match(fuzzy, { action: 'deny', matched_plate: 'A8123', distance: 0.5, reason: 'denied by list Stolen plates (matched A8123 at distance 0.5)' });
});

t.test('watch alerts but never opens; it alerts alongside allow and deny', async (t) => {
  const watch = m('watch', 'Stolen', { plate: 'AB123' });
  t.match(decide([watch], open), { action: 'alert', alert: true, list: { type: 'watch' }, reason: 'on watch list Stolen' });
  const both = decide([watch, m('allow', 'Staff', alice)], open);
  t.match(both, { action: 'open', alert: true, list: { name: 'Staff' }, reason: 'allowed by list Staff (entry Alice); on watch list Stolen' });
  const denied = decide([m('deny', 'Banned', { plate: 'AB123' }), watch], open);
  t.match(denied, { action: 'deny', alert: true, reason: 'denied by list Banned; on watch list Stolen' });
});

t.test('within a type the exact match decides, then the lower distance', async (t) => {
  const d = decide([m('allow', 'Near', { plate: 'AB128', label: 'Bob' }, 1), m('allow', 'Look-alike', { plate: 'A8123', label: 'Carol' }, 0.5), m('allow', 'Staff', alice, 0)], open);
  t.match(d, { entry_label: 'Alice', distance: 0 });
  const close = decide([m('deny', 'Far', { plate: 'AB128' }, 1), m('deny', 'Near', { plate: 'A8123' }, 0.25)], open);
  t.match(close, { list: { name: 'Near' }, distance: 0.25 });
});

t.test('RFID second factor: opens only with the entry\'s tag, else reports the mismatch', async (t) => {
  const tagged = m('allow', 'Staff', { ...alice, rfid: '1234' });
  t.match(decide([tagged], { canOpen: true, rfid: ['9', '1234'] }), { action: 'open', alert: false });
  t.match(decide([tagged], { canOpen: true, rfid: ['5678'] }), { action: 'none', alert: true, list: { name: 'Staff' }, reason: 'RFID tag 5678 does not match entry Alice' });
  t.match(decide([tagged], { canOpen: true, rfid: [] }), { action: 'none', alert: true, reason: 'RFID tag missing for entry Alice' });
  t.match(decide([tagged], { canOpen: true }), { action: 'none', reason: /RFID tag missing/ });
  t.match(decide([tagged], { canOpen: true, rfid: ['5', '6'] }), { reason: /^RFID tags 5, 6 do not match entry Alice/ });
  t.notMatch(decide([tagged], { canOpen: true, rfid: ['5678'] }).reason, /1234/, "the entry's own tag is never told");
  const untagged = m('allow', 'Visitors', { plate: 'AB123', label: 'Guest' });
  t.match(decide([tagged, untagged], { canOpen: true, rfid: [] }), { action: 'open', entry_label: 'Guest' }, 'another allow entry without a tag still opens');
  t.match(decide([tagged, m('deny', 'Banned', { plate: 'AB123' })], { canOpen: true, rfid: ['1234'] }), { action: 'deny' }, 'the right tag does not beat a deny');
});

t.test('the decision fits the schema once the edge adds direction and latency', async (t) => {
  const long = 'x'.repeat(128); // the longest name and label
  for (const d of [decide([], open), decide([m('allow', long, { plate: 'AB123', label: long })], open), decide([m('watch', 'W', { plate: 'AB123' }, 0.5)], open)]) {
    t.ok(Decision.safeParse({ ...d, direction: 'in', latency_ms: 12 }).success, d.reason.slice(0, 60));
    t.ok(d.reason.length <= 256);
  }
});

t.test('end to end: the dash no longer bypasses a deny list (issue 10)', async (t) => {
  const stamp = '2026-01-01T00:00:00Z';
  const snap = (type: ListType, name: string, plate: string) =>
    ListSnapshot.parse({ id: name.toLowerCase(), name, type, entries: [{ plate }], entries_count: 1, version: 'v1', created_at: stamp, updated_at: stamp });
  const ix = new ListIndex([snap('allow', 'Staff', 'AB123'), snap('deny', 'Banned', 'AB–123')]);
  const matches = ix.lookup({ plate: 'ab123', at: new Date(), cameraId: null, direction: null, siteTimeZone: 'UTC' });
  t.match(decide(matches, open), { action: 'deny', list: { name: 'Banned' } });
});
