/**
 * The ConfigStore contract (cloud/store/contracts.ts), one suite run against SQLite
 * (SqliteConfigStore through asyncView) and PostgreSQL (PgConfigStore) on fresh databases:
 * ids per kind in sequence, errors, filters, order, paging and totals, what each of two edges
 * runs (config-store.ts `scopeOf`), the config generation, and ids drawn by two writers at once.
 */
import t from 'tap';
import type { Test } from 'tap';
import { asyncView } from '../../../cloud/store/async-view.js';
import { SqliteConfigStore, type ConfigKind, type Resource } from '../../../cloud/store/config-store.js';
import type { ConfigStore } from '../../../cloud/store/contracts.js';
import { PgConfigStore } from '../../../cloud/store/pg/pg-config-store.js';
import { eachBackend, generationWatch, sameDatabase, type Backend } from '../../fixtures/store-backends.js';

function configOf(b: Backend): ConfigStore {
  return b.kind === 'sqlite' ? asyncView(new SqliteConfigStore(b.db)) : new PgConfigStore(b.pool);
}

/** A second writer on the same database: another connection (SQLite) or another replica's pool (PostgreSQL). */
async function secondWriter(t: Test, b: Backend): Promise<ConfigStore> {
  return configOf(await sameDatabase(t, b));
}

/** Byte order, as SQLite's BINARY and PostgreSQL's COLLATE "C". */
const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
const ids = (items: Array<{ id: string }>) => items.map((i) => i.id);
const bodyIds = (bodies: string[]) => bodies.map((b) => (JSON.parse(b) as { id: string }).id);

t.test('ids per kind in sequence, a given id kept, a taken id refused and nothing changed', (t) =>
  eachBackend(t, async (t, b) => {
    const config = configOf(b);
    const gen = generationWatch(config);
    await gen(t, 0, 'start');
    const cam = await config.create('cameras', { name: 'Gate', enabled: true, edge_id: null });
    t.same(cam, { id: 'cam-001', name: 'Gate', enabled: true, edge_id: null, created_at: cam.created_at, updated_at: cam.created_at }, 'the body, its id and both stamps');
    t.match(cam.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    t.same(await config.get('cameras', 'cam-001'), cam, 'read back as created');
    await gen(t, 1, 'a create');
    t.equal((await config.create('cameras', { name: 'B' })).id, 'cam-002');
    const expected: Array<[ConfigKind, string]> = [['zones', 'zone-001'], ['models', 'model-001'], ['sensors', 'sensor-001'], ['exporters', 'exporter-001']];
    for (const [kind, id] of expected) t.equal((await config.create(kind, { name: kind })).id, id, `${kind} count on their own`);
    await gen(t, 5, 'five creates');
    t.equal((await config.create('cameras', { id: 'cam-003', name: 'given' })).id, 'cam-003', "the client's id");
    t.equal((await config.create('cameras', { name: 'next' })).id, 'cam-004', 'a generated id skips one taken');
    await gen(t, 2, 'two creates');
    await t.rejects(config.create('cameras', { id: 'cam-001', name: 'again' }), { name: 'AppError', code: 'DUPLICATE_RESOURCE', status: 409, message: 'cam with id cam-001 already exists' });
    await t.rejects(config.create('zones', { id: 'zone-001' }), { code: 'DUPLICATE_RESOURCE', message: 'zone with id zone-001 already exists' });
    await gen(t, 0, 'refused creates');
    t.same(await config.get('cameras', 'cam-001'), cam, 'the item is untouched');
    t.equal((await config.create('cameras', { name: 'after' })).id, 'cam-005', 'a refused create took no number');
    t.equal(await config.get('cameras', 'nope'), undefined, 'unknown id');
    t.equal(await config.get('zones', 'cam-001'), undefined, 'ids are per kind');
  }),
);

t.test('replace, delete and edgeOf, and the generation on each', (t) =>
  eachBackend(t, async (t, b) => {
    const config = configOf(b);
    const gen = generationWatch(config);
    const cam = await config.create('cameras', { name: 'A', enabled: true, edge_id: 'e1' });
    const other = await config.create('cameras', { name: 'B', enabled: true, edge_id: null });
    await gen(t, 0, 'start');
    t.equal(await config.edgeOf('cameras', cam.id), 'e1');
    t.equal(await config.edgeOf('cameras', other.id), null, 'no edge');
    t.equal(await config.edgeOf('cameras', 'nope'), undefined, 'no such item');
    const saved = await config.replace('cameras', { ...cam, name: 'A2', enabled: false, edge_id: 'e2' });
    t.same(saved, { ...cam, name: 'A2', enabled: false, edge_id: 'e2', updated_at: saved.updated_at });
    t.ok(saved.updated_at >= cam.updated_at, 'updated_at moves on');
    t.same(await config.get('cameras', cam.id), saved, 'stored as returned');
    await gen(t, 1, 'a replace');
    t.equal(await config.edgeOf('cameras', cam.id), 'e2', 'the columns follow the body');
    t.same(ids((await config.list('cameras', { enabled: false }, 0, 10)).items), [cam.id]);
    t.same(ids((await config.list('cameras', { edge_id: 'e2' }, 0, 10)).items), [cam.id]);
    const ghost = await config.replace('cameras', { id: 'ghost', name: 'x', created_at: saved.created_at, updated_at: saved.updated_at } as Resource);
    t.equal(ghost.id, 'ghost', 'a replace of an unknown id returns what it was given');
    t.equal(await config.get('cameras', 'ghost'), undefined, 'and stores nothing');
    await gen(t, 0, 'a replace of nothing');
    t.equal(await config.delete('cameras', cam.id), true);
    await gen(t, 1, 'a delete');
    t.equal(await config.delete('cameras', cam.id), false, 'gone already');
    t.equal(await config.delete('zones', other.id), false, 'ids are per kind');
    await gen(t, 0, 'deletes of nothing');
    t.equal(await config.get('cameras', cam.id), undefined);
    t.equal(await config.edgeOf('cameras', cam.id), undefined);
  }),
);

t.test('list: filters, order by creation then id (bytes), paging and totals', (t) =>
  eachBackend(t, async (t, b) => {
    const config = configOf(b);
    for (const id of ['b', 'Zed', 'alpha', '9', 'B-2']) await config.create('cameras', { id, name: id, enabled: id !== 'Zed', edge_id: id === 'alpha' ? null : 'e1' });
    await config.create('zones', { id: 'z1', camera_id: 'b', type: 'enter' });
    await config.create('zones', { id: 'z2', camera_id: 'b', type: 'exit' });
    await config.create('zones', { id: 'z3', camera_id: '9', type: 'enter' });
    const all = await config.list('cameras', {}, 0, 100);
    t.equal(all.total, 5);
    const sorted = [...all.items].sort((x, y) => byteOrder(x.created_at, y.created_at) || byteOrder(x.id, y.id));
    t.same(ids(all.items), ids(sorted), 'by created_at, then id by byte');
    const pages: string[] = [];
    for (let skip = 0; skip < 5; skip += 2) {
      const p = await config.list('cameras', {}, skip, 2);
      t.equal(p.total, 5, `total on page at ${skip}`);
      pages.push(...ids(p.items));
    }
    t.same(pages, ids(all.items), 'pages cut the same order');
    t.same(await config.list('cameras', {}, 10, 2), { items: [], total: 5 }, 'past the end: no items, the total still');
    t.same(await config.list('models', {}, 0, 10), { items: [], total: 0 }, 'nothing at all');
    const f = async (kind: ConfigKind, filter: Parameters<ConfigStore['list']>[1]) => {
      const r = await config.list(kind, filter, 0, 100);
      return { ids: ids(r.items).sort(byteOrder), total: r.total };
    };
    t.same(await f('cameras', { enabled: false }), { ids: ['Zed'], total: 1 });
    t.same(await f('cameras', { enabled: true }), { ids: ['9', 'B-2', 'alpha', 'b'], total: 4 });
    t.same(await f('cameras', { edge_id: null }), { ids: ['alpha'], total: 1 });
    t.same(await f('cameras', { edge_id: 'e1', enabled: true }), { ids: ['9', 'B-2', 'b'], total: 3 });
    t.same(await f('zones', { camera_id: 'b' }), { ids: ['z1', 'z2'], total: 2 });
    t.same(await f('zones', { type: 'enter' }), { ids: ['z1', 'z3'], total: 2 });
    t.same(await f('zones', { type: 'enter', camera_id: '9' }), { ids: ['z3'], total: 1 });
    t.same(await f('zones', { visibleTo: 'e1', type: 'exit' }), { ids: ['z2'], total: 1 });
    const limited = await config.list('cameras', { enabled: true }, 1, 2);
    t.same({ n: limited.items.length, total: limited.total }, { n: 2, total: 4 }, 'a filtered page and its total');
  }),
);

t.test('what each of two edges runs: cameras, zones and sensors by camera, models all, exporters by edge', (t) =>
  eachBackend(t, async (t, b) => {
    const config = configOf(b);
    const create = (kind: ConfigKind, id: string, body: Record<string, unknown> = {}) => config.create(kind, { id, name: id, ...body });
    await create('cameras', 'c1', { edge_id: 'e1' });
    await create('cameras', 'c2', { edge_id: 'e2' });
    await create('cameras', 'c0', { edge_id: null });
    await create('zones', 'z1', { camera_id: 'c1' });
    await create('zones', 'z2', { camera_id: 'c2' });
    await create('zones', 'z0', { camera_id: 'c0' });
    await create('sensors', 's-cam1', { camera_id: 'c1', zone_id: null });
    await create('sensors', 's-zone1', { camera_id: null, zone_id: 'z1' });
    await create('sensors', 's-zone2', { camera_id: null, zone_id: 'z2' });
    await create('sensors', 's-free', { camera_id: null, zone_id: null });
    await create('sensors', 's-bare'); // neither key in its body
    await create('sensors', 's-cam2-zone1', { camera_id: 'c2', zone_id: 'z1' });
    await create('sensors', 's-zone0', { camera_id: null, zone_id: 'z0' });
    await create('sensors', 's-ghost', { camera_id: null, zone_id: 'no-such-zone' });
    await create('models', 'm1');
    await create('exporters', 'x-all', { edge_id: null });
    await create('exporters', 'x1', { edge_id: 'e1' });
    await create('exporters', 'x2', { edge_id: 'e2' });

    const runs: Record<string, Record<ConfigKind, string[]>> = {
      e1: { cameras: ['c1'], zones: ['z1'], sensors: ['s-bare', 's-cam1', 's-free', 's-zone1'], models: ['m1'], exporters: ['x-all', 'x1'] },
      e2: { cameras: ['c2'], zones: ['z2'], sensors: ['s-bare', 's-cam2-zone1', 's-free', 's-zone2'], models: ['m1'], exporters: ['x-all', 'x2'] },
      e3: { cameras: [], zones: [], sensors: ['s-bare', 's-free'], models: ['m1'], exporters: ['x-all'] },
    };
    const everything: Record<ConfigKind, string[]> = {
      cameras: ['c0', 'c1', 'c2'],
      zones: ['z0', 'z1', 'z2'],
      sensors: ['s-bare', 's-cam1', 's-cam2-zone1', 's-free', 's-ghost', 's-zone0', 's-zone1', 's-zone2'],
      models: ['m1'],
      exporters: ['x-all', 'x1', 'x2'],
    };
    for (const [edge, kinds] of Object.entries(runs)) {
      for (const [kind, want] of Object.entries(kinds) as Array<[ConfigKind, string[]]>) {
        t.same(bodyIds(await config.bodiesFor(kind, edge)), want, `${edge} ${kind}: bodiesFor, by id`);
        const page = await config.list(kind, { visibleTo: edge }, 0, 100);
        t.same({ ids: ids(page.items).sort(byteOrder), total: page.total }, { ids: want, total: want.length }, `${edge} ${kind}: list and total`);
        for (const id of everything[kind]) t.equal(await config.visibleTo(kind, id, edge), want.includes(id), `${edge} ${kind} ${id}: visibleTo`);
        t.equal(await config.countFor(kind, edge, null), want.length, `${edge} ${kind}: countFor`);
        if (want.length) t.equal(await config.countFor(kind, edge, want[0]!), want.length - 1, `${edge} ${kind}: countFor except one it runs`);
        t.equal(await config.countFor(kind, edge, 'not-one-of-them'), want.length, `${edge} ${kind}: countFor except another`);
      }
    }
    t.equal(await config.visibleTo('cameras', 'nope', 'e1'), false, 'no such item');
    t.same(ids((await config.list('sensors', { visibleTo: 'e1' }, 1, 2)).items).length, 2, 'a scoped page');

    // Moving a camera moves its zones and their sensors with it.
    await config.replace('cameras', { ...(await config.get('cameras', 'c1'))!, edge_id: 'e2' });
    t.same(bodyIds(await config.bodiesFor('zones', 'e1')), [], 'e1 lost the zone of its camera');
    t.same(bodyIds(await config.bodiesFor('zones', 'e2')), ['z1', 'z2']);
    t.same(bodyIds(await config.bodiesFor('sensors', 'e2')), ['s-bare', 's-cam1', 's-cam2-zone1', 's-free', 's-zone1', 's-zone2']);
    // And a sensor's zone, changed by a replace, moves it.
    await config.replace('sensors', { ...(await config.get('sensors', 's-zone0'))!, zone_id: 'z1' });
    t.equal(await config.visibleTo('sensors', 's-zone0', 'e2'), true, "a sensor's zone is read from its latest body");
  }),
);

t.test('a sensor whose body SQLite cannot parse (nested past 1000 levels) fails no listing', (t) =>
  eachBackend(t, async (t, b) => {
    const config = configOf(b);
    await config.create('cameras', { id: 'c1', edge_id: 'e1' });
    await config.create('zones', { id: 'z1', camera_id: 'c1' });
    let deep: unknown = 'bottom';
    for (let i = 0; i < 1100; i++) deep = { d: deep };
    await config.create('sensors', { id: 's-deep', camera_id: 'c1', zone_id: null, metadata: deep });
    await config.create('sensors', { id: 's-zone', camera_id: null, zone_id: 'z1' });
    await config.create('sensors', { id: 's-free', camera_id: null, zone_id: null });
    if (b.kind === 'sqlite') t.equal(b.db.prepare("SELECT json_valid(body) FROM config_items WHERE id = 's-deep'").pluck().get(), 0, 'SQLite cannot parse that body');
    t.same(bodyIds(await config.bodiesFor('sensors', 'e1')), ['s-deep', 's-free', 's-zone'], 'every sensor of the edge, the deep one by its camera');
    t.same(bodyIds(await config.bodiesFor('sensors', 'e2')), ['s-free']);
    const page = await config.list('sensors', { visibleTo: 'e1' }, 0, 10);
    t.same({ ids: ids(page.items).sort(byteOrder), total: page.total }, { ids: ['s-deep', 's-free', 's-zone'], total: 3 });
    t.equal(await config.countFor('sensors', 'e2', null), 1);
    t.equal(await config.visibleTo('sensors', 's-deep', 'e1'), true);
    t.same((await config.get('sensors', 's-deep'))!.metadata, deep, 'and read back whole');
  }),
);

t.test('ids drawn by two writers at once are distinct and in sequence; a contested given id is one 201 and 409s', (t) =>
  eachBackend(t, async (t, b) => {
    const a = configOf(b);
    const other = await secondWriter(t, b);
    const before = await a.generation();
    const n = 24;
    const made = await Promise.all(Array.from({ length: n }, (_, i) => (i % 2 ? other : a).create('cameras', { name: `cam ${i}` })));
    const want = Array.from({ length: n }, (_, i) => `cam-${String(i + 1).padStart(3, '0')}`);
    t.same(ids(made).sort(byteOrder), want, 'cam-001 … cam-024, each once');
    t.equal((await a.list('cameras', {}, 0, 100)).total, n, 'all stored');
    t.equal((await other.generation()) - before, n, 'the generation moved once per item');
    const contested = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => (i % 2 ? other : a).create('zones', { id: 'gate', n: i })));
    t.equal(contested.filter((r) => r.status === 'fulfilled').length, 1, 'one create of a given id wins');
    for (const r of contested) if (r.status === 'rejected') t.match(r.reason, { code: 'DUPLICATE_RESOURCE', message: 'zone with id gate already exists' });
    // Generated ids racing a create that names the id they would draw: whichever inserts it
    // first has it; a generated create then takes the next, never a 409 or a 500.
    const [given, ...generated] = await Promise.allSettled([
      a.create('models', { id: 'model-002' }),
      ...Array.from({ length: 6 }, (_, i) => (i % 2 ? other : a).create('models', { name: `m${i}` })),
    ]);
    t.ok(generated.every((r) => r.status === 'fulfilled'), 'every generated create succeeds');
    const got = generated.flatMap((r) => (r.status === 'fulfilled' ? [r.value.id] : []));
    if (given!.status === 'rejected') t.match(given!.reason, { code: 'DUPLICATE_RESOURCE' }, 'the given id lost to a generated one');
    else got.push(given!.value.id);
    t.equal(new Set(got).size, got.length, 'no id twice');
    t.ok(got.includes('model-002') && got.every((id) => /^model-00[1-8]$/.test(id)), `in sequence (${got.sort(byteOrder).join(', ')})`);
  }),
);
