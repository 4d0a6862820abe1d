/**
 * The ListsStore contract (cloud/store/contracts.ts), one suite run against SQLite
 * (SqliteListsStore through asyncView) and PostgreSQL (PgListsStore) on fresh databases: ids,
 * errors, filters, order, paging and totals, what an edge applies, versions (the entries' ETag)
 * and the config generation, entries pages with a plate prefix, upsert and replace all or
 * nothing with their limit, changes by two writers at once, and a 200,000-entry replace.
 */
import t from 'tap';
import type pg from 'pg';
import type { Test } from 'tap';
import { asyncView } from '../../../cloud/store/async-view.js';
import { SqliteConfigStore } from '../../../cloud/store/config-store.js';
import type { ConfigStore, ListsStore } from '../../../cloud/store/contracts.js';
import { SqliteListsStore, entryText, tooManyEntries, type ListFilter } from '../../../cloud/store/lists-store.js';
import { PgConfigStore } from '../../../cloud/store/pg/pg-config-store.js';
import { PgListsStore } from '../../../cloud/store/pg/pg-lists-store.js';
import type { ListEntry, ListUpdate } from '../../../shared/schemas/lists.js';
import { eachBackend, generationWatch, sameDatabase, type Backend } from '../../fixtures/store-backends.js';

function storesOf(b: Backend): { lists: ListsStore; config: ConfigStore } {
  return b.kind === 'sqlite'
    ? { lists: asyncView(new SqliteListsStore(b.db)), config: asyncView(new SqliteConfigStore(b.db)) }
    : { lists: new PgListsStore(b.pool), config: new PgConfigStore(b.pool) };
}

/** A second writer on the same database: another connection (SQLite) or another replica's pool (PostgreSQL). */
async function secondWriter(t: Test, b: Backend): Promise<ListsStore> {
  return storesOf(await sameDatabase(t, b)).lists;
}

const fields = (over: Partial<ListUpdate> = {}): ListUpdate => ({
  name: 'Staff',
  type: 'allow',
  edge_id: null,
  camera_ids: [],
  direction: 'any',
  match: { mode: 'exact', confusable_cost: 0, max_distance: 0 },
  timezone: null,
  enabled: true,
  ...over,
});
const entry = (plate: string, over: Partial<ListEntry> = {}): ListEntry => ({ plate, label: null, valid_from: null, valid_until: null, schedule: [], rfid: null, ...over });
const plates = (bodies: string[]) => bodies.map((b) => (JSON.parse(b) as ListEntry).plate);
const ids = (items: Array<{ id: string }>) => items.map((i) => i.id);
/** Byte order, as SQLite's BINARY and PostgreSQL's COLLATE "C". */
const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

t.test('create: ids in sequence, a given id kept, a taken one refused with nothing changed; the summary and its version', (t) =>
  eachBackend(t, async (t, b) => {
    const { lists, config } = storesOf(b);
    const gen = generationWatch(config);
    await gen(t, 0, 'start');
    const l = await lists.create(null, fields(), [entry('AB123'), entry('XY9')]);
    const g = await gen(t, 1, 'a create');
    t.same(l, { id: 'list-001', ...fields(), entries_count: 2, version: String(g), created_at: l.created_at, updated_at: l.updated_at }, 'its fields, count and version');
    t.ok(l.updated_at >= l.created_at);
    t.same(await lists.get('list-001'), l, 'read back');
    t.equal(await lists.version('list-001'), String(g), 'version is the generation of its last change');
    t.equal((await lists.create('staff', fields({ name: 'given' }), [])).id, 'staff', "the client's id");
    t.equal((await lists.create(null, fields(), [])).id, 'list-002');
    t.equal((await lists.create('list-003', fields(), [])).id, 'list-003');
    t.equal((await lists.create(null, fields(), [])).id, 'list-004', 'a generated id skips one taken');
    await gen(t, 4, 'four creates');
    await t.rejects(lists.create('staff', fields({ name: 'again' }), [entry('NEW1')]), { name: 'AppError', code: 'DUPLICATE_RESOURCE', status: 409, message: 'A list with id staff already exists' });
    await gen(t, 0, 'a refused create');
    t.same((await lists.get('staff'))!.name, 'given', 'the list is untouched');
    t.same(await lists.page('staff', 0, 10), { bodies: [], total: 0 }, 'and took no entry');
    t.equal((await lists.create(null, fields(), [])).id, 'list-005', 'a refused create took no number');
    t.equal(await lists.get('nope'), undefined);
    t.equal(await lists.version('nope'), undefined);
  }),
);

t.test('update and delete: the version moves on a change only, and is never reused', (t) =>
  eachBackend(t, async (t, b) => {
    const { lists, config } = storesOf(b);
    const gen = generationWatch(config);
    const l = await lists.create('gate', fields(), [entry('AB123')]);
    await gen(t, 0, 'start');
    const same = { ...fields(), match: { max_distance: 0, confusable_cost: 0, mode: 'exact' as const } };
    t.same(await lists.update('gate', same), l, 'the same fields (in another key order): the same list, version kept');
    await gen(t, 0, 'an update that changes nothing');
    const changed = await lists.update('gate', fields({ name: 'Gate', type: 'deny', enabled: false, edge_id: 'e1' }));
    const g = await gen(t, 1, 'an update');
    t.same(changed, { ...l, name: 'Gate', type: 'deny', enabled: false, edge_id: 'e1', version: String(g), updated_at: changed!.updated_at });
    t.same(ids((await lists.list({ type: 'deny', enabled: false, edge_id: 'e1' }, 0, 10)).items), ['gate'], 'the filters follow the fields');
    t.equal(await lists.update('nope', fields()), undefined, 'no such list');
    await gen(t, 0, 'an update of nothing');
    t.equal(await lists.delete('gate'), true);
    await gen(t, 1, 'a delete');
    t.equal(await lists.delete('gate'), false, 'gone already');
    await gen(t, 0, 'a delete of nothing');
    t.equal(await lists.get('gate'), undefined);
    const again = await lists.create('gate', fields(), []);
    t.ok(Number(again.version) > Number(changed!.version), `created again: a new version (${again.version} > ${changed!.version})`);
    t.same(await lists.page('gate', 0, 10), { bodies: [], total: 0 }, 'without the old entries');
  }),
);

t.test('list: filters, order by creation then id, paging and totals; what each edge applies', (t) =>
  eachBackend(t, async (t, b) => {
    const { lists } = storesOf(b);
    await lists.create('alpha', fields({ type: 'allow', edge_id: null }), []);
    await lists.create('Beta', fields({ type: 'deny', edge_id: 'e1', enabled: false }), []);
    await lists.create('gamma', fields({ type: 'watch', edge_id: 'e2' }), []);
    await lists.create('Delta', fields({ type: 'allow', edge_id: 'e1' }), []);
    const all = await lists.list({}, 0, 10);
    t.equal(all.total, 4);
    const sorted = [...all.items].sort((x, y) => byteOrder(x.created_at, y.created_at) || byteOrder(x.id, y.id));
    t.same(ids(all.items), ids(sorted), 'by created_at, then id by byte');
    t.same(ids((await lists.list({}, 1, 2)).items), ids(all.items).slice(1, 3), 'a page');
    t.same(await lists.list({}, 10, 2), { items: [], total: 4 }, 'past the end: the total still');
    const f = async (filter: ListFilter) => {
      const r = await lists.list(filter, 0, 10);
      return { ids: ids(r.items).sort(byteOrder), total: r.total };
    };
    t.same(await f({ type: 'allow' }), { ids: ['Delta', 'alpha'], total: 2 });
    t.same(await f({ enabled: false }), { ids: ['Beta'], total: 1 });
    t.same(await f({ enabled: true, type: 'allow' }), { ids: ['Delta', 'alpha'], total: 2 });
    t.same(await f({ edge_id: null }), { ids: ['alpha'], total: 1 });
    t.same(await f({ edge_id: 'e1' }), { ids: ['Beta', 'Delta'], total: 2 });
    t.same(await f({ visibleTo: 'e1' }), { ids: ['Beta', 'Delta', 'alpha'], total: 3 });
    t.same(await f({ visibleTo: 'e3' }), { ids: ['alpha'], total: 1 });
    t.same(await f({ visibleTo: 'e2', type: 'watch' }), { ids: ['gamma'], total: 1 });
    const p = await lists.list({ visibleTo: 'e1' }, 2, 2);
    t.same({ n: p.items.length, total: p.total }, { n: 1, total: 3 }, 'a scoped page and its total');

    t.same(ids(await lists.appliedBy('e1')), ['Beta', 'Delta', 'alpha'], 'appliedBy: own and global, enabled or not, by id in byte order');
    t.same(ids(await lists.appliedBy('e2')), ['alpha', 'gamma']);
    t.same(ids(await lists.appliedBy('e3')), ['alpha']);
    const applies: Record<string, string[]> = { e1: ['Beta', 'Delta', 'alpha'], e2: ['alpha', 'gamma'], e3: ['alpha'] };
    for (const [edge, want] of Object.entries(applies)) {
      for (const id of ['alpha', 'Beta', 'gamma', 'Delta', 'nope']) t.equal(await lists.appliesTo(id, edge), want.includes(id), `appliesTo ${id} ${edge}`);
    }
    t.equal(await lists.countApplied('e1', null), 3);
    t.equal(await lists.countApplied('e1', 'Beta'), 2, 'except one it applies');
    t.equal(await lists.countApplied('e1', 'gamma'), 3, 'except one it does not');
    t.equal(await lists.countApplied('e3', null), 1);
    t.equal(await lists.countApplied(null, null), 1, 'null: the lists of every edge');
    t.equal(await lists.countApplied(null, 'alpha'), 0);
  }),
);

t.test('entries: canonical text, pages in plate order, a plate prefix, the export pages', (t) =>
  eachBackend(t, async (t, b) => {
    const { lists } = storesOf(b);
    const night = entry('NIGHT1', { label: 'Night, gate 2', schedule: [{ days: ['sat', 'fri', 'fri'], from: '22:00', to: '06:00' }], rfid: 'tag-1' });
    const given = ['B2', 'A1', 'AB9', 'A10', 'Z', 'AA'].map((p) => entry(p, { label: p === 'AA' ? 'Ä "quoted" \\ \u0001' : null }));
    const l = await lists.create('l', fields(), [...given, night]);
    t.equal(l.entries_count, 7);
    const all = await lists.page('l', 0, 100);
    t.same(plates(all.bodies), ['A1', 'A10', 'AA', 'AB9', 'B2', 'NIGHT1', 'Z'], 'plate order (bytes)');
    t.equal(all.total, 7);
    t.equal(all.bodies[5], entryText(night), 'stored canonically, served as stored');
    t.same((JSON.parse(all.bodies[5]!) as ListEntry).schedule[0]!.days, ['fri', 'sat'], 'days unique, in week order');
    t.equal((JSON.parse(all.bodies[2]!) as ListEntry).label, 'Ä "quoted" \\ \u0001', 'text kept exactly');
    t.same(await lists.page('l', 2, 2), { bodies: all.bodies.slice(2, 4), total: 7 }, 'skip and limit');
    t.same(await lists.page('l', 10, 2), { bodies: [], total: 7 }, 'past the end');
    t.same(await lists.page('l', 0, 10, 'A'), { bodies: all.bodies.slice(0, 4), total: 4 }, 'prefix A');
    t.same(await lists.page('l', 1, 2, 'A'), { bodies: all.bodies.slice(1, 3), total: 4 }, 'a page of a prefix');
    t.same(await lists.page('l', 0, 10, 'AB'), { bodies: [all.bodies[3]], total: 1 });
    t.same(await lists.page('l', 0, 10, 'Q'), { bodies: [], total: 0 });
    t.same((await lists.page('nope', 0, 10)).bodies, [], 'no such list: no entries');
    t.same((await lists.entriesAfter('l', null, 3)).map((e) => e.plate), ['A1', 'A10', 'AA']);
    t.same((await lists.entriesAfter('l', 'AA', 10)).map((e) => e.plate), ['AB9', 'B2', 'NIGHT1', 'Z']);
    t.same(await lists.entriesAfter('l', 'Z', 10), []);
    t.same((await lists.entriesAfter('l', 'NIGHT0', 1))[0], JSON.parse(entryText(night)), 'entries parsed');
  }),
);

t.test('upsert: counts, the version on a change only, the limit with nothing stored', (t) =>
  eachBackend(t, async (t, b) => {
    const { lists, config } = storesOf(b);
    const gen = generationWatch(config);
    const week = entry('W1', { schedule: [{ days: ['mon', 'fri'], from: '07:00', to: '19:00' }] });
    await lists.create('l', fields(), [entry('A1'), entry('B2', { label: 'old' }), week]);
    const v0 = (await lists.get('l'))!.version;
    await gen(t, 0, 'start');
    const r = await lists.upsert('l', [entry('A1'), entry('B2', { label: 'new' }), entry('C3'), entry('W1', { schedule: [{ days: ['fri', 'mon'], from: '07:00', to: '19:00' }] })], 10);
    const g = await gen(t, 1, 'an upsert that changes');
    t.same({ ...r!, list: undefined }, { list: undefined, added: 1, updated: 1, removed: 0, unchanged: 2 }, 'one added, one updated, equal ones (days in another order) unchanged');
    t.same([r!.list.entries_count, r!.list.version], [4, String(g)]);
    t.same(r!.list, await lists.get('l'), 'the list as stored');
    t.same(plates((await lists.page('l', 0, 10)).bodies), ['A1', 'B2', 'C3', 'W1']);
    t.equal((JSON.parse((await lists.page('l', 0, 10, 'B')).bodies[0]!) as ListEntry).label, 'new');
    const again = await lists.upsert('l', [entry('A1'), entry('C3')], 10);
    t.same({ ...again!, list: undefined }, { list: undefined, added: 0, updated: 0, removed: 0, unchanged: 2 });
    t.equal(again!.list.version, String(g), 'nothing changed: version kept');
    await gen(t, 0, 'an upsert that changes nothing');
    t.not(v0, String(g));

    const before = await lists.page('l', 0, 10);
    await t.rejects(lists.upsert('l', [entry('D4'), entry('E5'), entry('A1', { label: 'x' })], 5), {
      name: 'AppError',
      code: 'PAYLOAD_TOO_LARGE',
      status: 413,
      message: tooManyEntries(5, 6).message,
      extra: { max_entries: 5 },
    });
    t.same(await lists.page('l', 0, 10), before, 'refused: nothing stored, the update of A1 neither');
    t.equal((await lists.get('l'))!.version, String(g));
    await gen(t, 0, 'a refused upsert');
    const full = await lists.upsert('l', [entry('D4'), entry('E5'), entry('A1', { label: 'x' })], 6);
    t.same([full!.added, full!.updated, full!.list.entries_count], [2, 1, 6], 'up to the limit exactly');
    t.equal(await lists.upsert('nope', [entry('A1')], 10), undefined, 'no such list');
  }),
);

t.test('replace: the whole set, counts, the version on a change only, all or nothing; deleteEntry', (t) =>
  eachBackend(t, async (t, b) => {
    const { lists, config } = storesOf(b);
    const gen = generationWatch(config);
    await lists.create('l', fields(), ['A1', 'B2', 'C3', 'D4'].map((p) => entry(p)));
    await gen(t, 0, 'start');
    const r = await lists.replace('l', [entry('A1'), entry('B2', { label: 'changed' }), entry('E5')]);
    const g = await gen(t, 1, 'a replace');
    t.same({ ...r!, list: undefined }, { list: undefined, added: 1, updated: 1, removed: 2, unchanged: 1 });
    t.same([r!.list.entries_count, r!.list.version], [3, String(g)]);
    t.same(plates((await lists.page('l', 0, 10)).bodies), ['A1', 'B2', 'E5'], 'exactly the new set');
    const same = await lists.replace('l', [entry('E5'), entry('A1'), entry('B2', { label: 'changed' })]);
    t.same({ ...same!, list: undefined }, { list: undefined, added: 0, updated: 0, removed: 0, unchanged: 3 });
    t.equal(same!.list.version, String(g), 'the same set: version kept');
    await gen(t, 0, 'a replace that changes nothing');

    // Plates must be unique (the routes check it): a body breaking that is refused whole, after
    // the removals it would have made.
    await t.rejects(lists.replace('l', [entry('X1'), entry('Y2'), entry('X1', { label: 'twice' })]));
    t.same(plates((await lists.page('l', 0, 10)).bodies), ['A1', 'B2', 'E5'], 'a failed replace stores nothing');
    t.equal((await lists.get('l'))!.entries_count, 3);
    await gen(t, 0, 'a failed replace');

    const gone = await lists.deleteEntry('l', 'B2');
    const g2 = await gen(t, 1, 'an entry deleted');
    t.same([gone && gone.entries_count, gone && gone.version], [2, String(g2)]);
    t.equal(await lists.deleteEntry('l', 'B2'), false, 'no such entry');
    t.equal(await lists.deleteEntry('nope', 'B2'), undefined, 'no such list');
    await gen(t, 0, 'deletes of nothing');
    const empty = await lists.replace('l', []);
    t.same([empty!.removed, empty!.list.entries_count], [2, 0], 'an empty set empties the list');
    t.equal(await lists.replace('nope', [entry('A1')]), undefined, 'no such list');
  }),
);

t.test('two writers at once: distinct generated ids, one winner of a given id, exact counts and distinct versions', (t) =>
  eachBackend(t, async (t, b) => {
    const { lists } = storesOf(b);
    const other = await secondWriter(t, b);
    const made = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? other : lists).create(null, fields({ name: `l${i}` }), [entry(`P${i}`)])));
    t.same(ids(made).sort(byteOrder), Array.from({ length: 12 }, (_, i) => `list-${String(i + 1).padStart(3, '0')}`), 'list-001 … list-012, each once');
    t.equal(new Set(made.map((l) => l.version)).size, 12, 'each create its own version');
    const contested = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => (i % 2 ? other : lists).create('same', fields(), [entry(`Q${i}`)])));
    t.equal(contested.filter((r) => r.status === 'fulfilled').length, 1, 'one create of a given id wins');
    for (const r of contested) if (r.status === 'rejected') t.match(r.reason, { code: 'DUPLICATE_RESOURCE' });
    t.equal((await lists.page('same', 0, 10)).total, 1, "the losers' entries are not stored");

    // Ten upserts of 100 new plates each, and one plate they all share, on one list at once.
    const batches = Array.from({ length: 10 }, (_, i) => [entry('SHARED', { label: `w${i}` }), ...Array.from({ length: 100 }, (_, j) => entry(`U${i}X${j}`))]);
    const results = await Promise.all(batches.map((es, i) => (i % 2 ? other : lists).upsert('list-001', es, 10_000)));
    t.equal(results.reduce((n, r) => n + r!.added, 0), 1001, 'every plate added once, SHARED by one of them');
    t.equal(results.reduce((n, r) => n + r!.updated, 0), 9, 'and updated by the nine others');
    const final = (await lists.get('list-001'))!;
    t.equal(final.entries_count, 1002, 'entries_count is exact');
    t.equal((await lists.page('list-001', 0, 1)).total, 1002);
    t.equal((await lists.page('list-001', 0, 10, 'U')).total, 1000, 'counted by prefix');
    const versions = results.map((r) => Number(r!.list.version));
    t.equal(new Set(versions).size, 10, 'each change its own version');
    t.equal(final.version, String(Math.max(...versions)), 'the last one is the list’s');
  }),
);

/** The pool, seen through a wrapper that counts the statements sent through it and its clients. */
function countingPool(pool: pg.Pool): { pool: pg.Pool; statements: () => number } {
  let n = 0;
  const counted = <T extends object>(target: T): T =>
    new Proxy(target, {
      get(o, prop) {
        const v = Reflect.get(o, prop, o) as unknown;
        if (prop === 'query') return (...a: unknown[]) => (n++, (v as (...a: unknown[]) => unknown).apply(o, a));
        return typeof v === 'function' ? v.bind(o) : v;
      },
    });
  const wrapped = counted(pool);
  return {
    pool: new Proxy(wrapped, {
      get(o, prop) {
        if (prop === 'connect') return async () => counted(await pool.connect());
        return Reflect.get(o, prop) as unknown;
      },
    }),
    statements: () => n,
  };
}

t.test('a 200,000-entry list: created, replaced (some added, updated, removed), replaced unchanged', (t) =>
  eachBackend(t, async (t, b) => {
    const counter = b.kind === 'postgres' ? countingPool(b.pool) : null;
    const lists = counter ? new PgListsStore(counter.pool) : storesOf(b).lists;
    const n = 200_000;
    const plate = (i: number) => `P${i.toString(36).toUpperCase().padStart(5, '0')}`;
    const first = Array.from({ length: n }, (_, i) => entry(plate(i), { label: i % 3 ? null : `L${i}` }));
    let t0 = performance.now();
    const l = await lists.create('big', fields(), first);
    t.comment(`${b.kind}: create with ${n} entries ${Math.round(performance.now() - t0)} ms`);
    t.equal(l.entries_count, n);
    // 10,000 removed (the first), 10,000 added (past the end), 10,000 updated (a label changed).
    const second = [
      ...first.slice(10_000).map((e, i) => (i % 19 === 0 ? { ...e, label: 'changed' } : e)),
      ...Array.from({ length: 10_000 }, (_, i) => entry(plate(n + i))),
    ];
    const updated = first.slice(10_000).filter((e, i) => i % 19 === 0 && e.label !== 'changed').length;
    t0 = performance.now();
    const r = await lists.replace('big', second);
    const ms = performance.now() - t0;
    t.comment(`${b.kind}: replace of ${n} entries over ${n} ${Math.round(ms)} ms`);
    t.same({ ...r!, list: undefined }, { list: undefined, added: 10_000, updated, removed: 10_000, unchanged: n - 10_000 - updated });
    t.equal(r!.list.entries_count, n);
    if (counter) t.ok(counter.statements() < 100, `bulk statements, not one per entry (${counter.statements()} for the create and the replace)`);
    // A bound that only one statement per entry would break, loose enough for a loaded machine.
    t.ok(ms < 60_000, `the replace took ${Math.round(ms)} ms (< 60 s)`);
    const page = await lists.page('big', 0, 3);
    t.same([plates(page.bodies), page.total], [[plate(10_000), plate(10_001), plate(10_002)], n], 'the first removed, the rest in plate order');
    t.equal((await lists.page('big', 0, 10_000, 'P5')).total, second.filter((e) => e.plate.startsWith('P5')).length, 'a prefix counts the new set');
    t0 = performance.now();
    const same = await lists.replace('big', second);
    t.comment(`${b.kind}: replace of ${n} equal entries ${Math.round(performance.now() - t0)} ms`);
    t.same([same!.added, same!.updated, same!.removed, same!.unchanged, same!.list.version], [0, 0, 0, n, r!.list.version], 'unchanged: version kept');
  }),
);
