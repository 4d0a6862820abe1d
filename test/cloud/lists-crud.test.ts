/**
 * Issue 10, lists managed in the cloud: CRUD of `/config/lists`, who may read and write, the
 * version moving with every change (and only then), bad input as 400s naming the field, the
 * edge's capacity of lists, and the OpenAPI document.
 */
import t, { type Test } from 'tap';
import { ListDetail, ListSummary, MAX_LIST_ENTRIES } from '../../shared/schemas/lists.js';
import { EDGE_LIMITS } from '../../shared/schemas/edge.js';
import { startTestCloud, type TestCloud } from './helpers.js';

const camera = (id: string, edge_id: string) => ({ id, name: id, rtsp_url: `rtsp://127.0.0.1:8554/${id}`, edge_id });

async function site(t: Test) {
  const c = await startTestCloud(t);
  const keyA = c.apiKey; // edge-001
  const keyB = (await c.ctx.apiKeys.create('edge-002')).key;
  for (const cam of [camera('cam-a', 'edge-001'), camera('cam-b', 'edge-002')]) {
    const r = await c.req('/config/cameras', { method: 'POST', token: c.adminToken, json: cam });
    if (r.status !== 201) throw new Error(`camera: ${r.status} ${await r.text()}`);
  }
  return { c, keyA, keyB };
}

async function ok(c: TestCloud, method: string, path: string, json?: unknown, expect = method === 'POST' ? 201 : 200): Promise<any> {
  const r = await c.req(path, { method, token: c.adminToken, json });
  const text = await r.text();
  if (r.status !== expect) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

const fieldsOf = (r: Response) => r.json().then((b: any) => (b.errors ?? []).map((e: { field: string }) => e.field));

t.test('create, read, replace, delete: plates normalised at write time, defaults filled, the detail says which edges apply it', async (t) => {
  const { c } = await site(t);
  const created = ListDetail.parse(
    await ok(c, 'POST', '/config/lists', {
      name: 'Staff',
      type: 'allow',
      entries: [
        { plate: 'ab–123', label: 'Alice', schedule: [{ days: ['fri', 'mon', 'mon'], from: '07:00', to: '19:00' }] },
        { plate: 'XY 9_8', rfid: 'tag-1' },
      ],
    }),
  );
  t.match(created, { id: 'list-001', name: 'Staff', type: 'allow', edge_id: null, camera_ids: [], direction: 'any', enabled: true, timezone: null, entries_count: 2 });
  t.same(created.match, { mode: 'exact', confusable_cost: 0, max_distance: 0 });
  t.same(created.edges.map((e) => e.id), ['edge-001', 'edge-002'], 'edge_id null: every registered edge applies it');
  t.same(created.edges.map((e) => [e.version, e.current]), [[null, false], [null, false]], 'neither has reported it yet');

  const page = await (await c.req('/config/lists/list-001/entries', { token: c.adminToken })).json();
  t.same(page.items.map((e: any) => e.plate), ['AB123', 'XY98'], 'stored normalised, in plate order');
  t.same(page.items[0].schedule[0].days, ['mon', 'fri'], 'days unique, in week order');
  t.same(page.items[1], { plate: 'XY98', label: null, valid_from: null, valid_until: null, schedule: [], rfid: 'tag-1' });

  const viewer = await c.addUser('viv', 'viewer-password-1', 'viewer');
  const list = await (await c.req('/config/lists', { token: viewer })).json();
  t.equal(list.total, 1);
  ListSummary.parse(list.items[0]);
  t.notOk('edges' in list.items[0], 'the listing is summaries');
  t.equal((await c.req('/config/lists', { method: 'POST', token: viewer, json: { name: 'x', type: 'deny' } })).status, 403, 'viewers read only');
  const operator = await c.addUser('opal', 'operator-password-1', 'operator');
  t.equal((await c.req('/config/lists/list-001', { method: 'DELETE', token: operator })).status, 403, 'operators too');
  t.equal((await c.req('/config/lists', { method: 'POST', key: c.apiKey, json: { name: 'x', type: 'deny' } })).status, 401, 'an edge key never writes');

  // PUT replaces the fields, keeps the entries; what a GET served may be sent back as is.
  const got = await ok(c, 'GET', '/config/lists/list-001');
  const put = await ok(c, 'PUT', '/config/lists/list-001', { ...got, name: 'Staff cars', type: 'deny', edge_id: 'edge-002', camera_ids: ['cam-b'] });
  t.match(put, { id: 'list-001', name: 'Staff cars', type: 'deny', edge_id: 'edge-002', camera_ids: ['cam-b'], entries_count: 2 });
  t.same(put.edges.map((e: any) => e.id), ['edge-002']);
  t.not(put.version, got.version, 'a change moves the version');
  const minimal = await ok(c, 'PUT', '/config/lists/list-001', { name: 'Staff cars', type: 'deny' });
  t.match(minimal, { edge_id: null, camera_ids: [], entries_count: 2 }, 'omitted fields take their defaults: PUT replaces');
  const refused = await c.req('/config/lists/list-001', { method: 'PUT', token: c.adminToken, json: { name: 'x', type: 'deny', entries: [] } });
  t.equal(refused.status, 400);
  t.same(await fieldsOf(refused), ['entries'], 'entries are not replaced through PUT /config/lists/{id}');
  t.same(await fieldsOf(await c.req('/config/lists/list-001', { method: 'PUT', token: c.adminToken, json: { id: 'other', name: 'x', type: 'deny' } })), ['id']);

  t.equal((await c.req('/config/lists/list-001', { method: 'DELETE', token: c.adminToken })).status, 204);
  t.equal((await c.req('/config/lists/list-001', { token: c.adminToken })).status, 404);
  t.equal((await c.req('/config/lists/list-001/entries', { token: c.adminToken })).status, 404);
  if (c.ctx.database.sqlite) t.equal(c.ctx.database.sqlite.db.prepare("SELECT COUNT(*) FROM list_entries WHERE list_id = 'list-001'").pluck().get(), 0, 'its entries went with it');
  t.equal((await c.req('/config/lists/list-001', { method: 'DELETE', token: c.adminToken })).status, 404);
  t.equal((await c.req('/config/lists', { method: 'POST', token: c.adminToken, json: { id: 'dup', name: 'a', type: 'watch' } })).status, 201);
  t.equal((await c.req('/config/lists', { method: 'POST', token: c.adminToken, json: { id: 'dup', name: 'b', type: 'watch' } })).status, 409);
});

t.test("an edge's key reads the lists of every edge and its own; another edge's list is a 403, its entries and export too", async (t) => {
  const { c, keyA, keyB } = await site(t);
  await ok(c, 'POST', '/config/lists', { id: 'all', name: 'All', type: 'deny', entries: [{ plate: 'D1' }] });
  await ok(c, 'POST', '/config/lists', { id: 'mine', name: 'A only', type: 'allow', edge_id: 'edge-001', entries: [{ plate: 'A1' }] });
  await ok(c, 'POST', '/config/lists', { id: 'theirs', name: 'B only', type: 'allow', edge_id: 'edge-002', entries: [{ plate: 'SECRETB' }] });

  const asA = await (await c.req('/config/lists', { key: keyA })).json();
  t.same(asA.items.map((l: any) => l.id), ['all', 'mine']);
  t.equal(asA.total, 2, 'total counts only what the edge may read');
  const asB = await (await c.req('/config/lists', { key: keyB })).json();
  t.same(asB.items.map((l: any) => l.id), ['all', 'theirs']);
  t.equal((await (await c.req('/config/lists', { token: c.adminToken })).json()).total, 3, 'users see every list');
  t.same((await (await c.req('/config/lists?edge_id=edge-002', { token: c.adminToken })).json()).items.map((l: any) => l.id), ['theirs']);
  t.same((await (await c.req('/config/lists?type=deny', { token: c.adminToken })).json()).items.map((l: any) => l.id), ['all']);
  await ok(c, 'PUT', '/config/lists/mine', { name: 'A only', type: 'allow', edge_id: 'edge-001', enabled: false });
  t.same((await (await c.req('/config/lists?enabled=false', { key: keyA })).json()).items.map((l: any) => l.id), ['mine'], 'enabled=false');
  t.same((await (await c.req('/config/lists?enabled=true', { key: keyA })).json()).items.map((l: any) => l.id), ['all'], 'enabled=true');

  for (const path of ['/config/lists/theirs', '/config/lists/theirs/entries', '/config/lists/theirs/entries.csv']) {
    const r = await c.req(path, { key: keyA });
    t.equal(r.status, 403, `${path} with another edge's key`);
    t.notOk((await r.text()).includes('SECRETB'), 'nothing of it in the refusal');
  }
  t.equal((await c.req('/config/lists/mine/entries', { key: keyA })).status, 200);
  t.equal((await c.req('/config/lists/all/entries.csv', { key: keyB })).status, 200);
  const detail = await (await c.req('/config/lists/all', { key: keyA })).json();
  t.same(detail.edges.map((e: any) => e.id), ['edge-001'], "an edge's key sees only itself among the edges");
  t.equal((await c.req('/config/lists/nope', { key: keyA })).status, 404);
  t.equal((await c.req('/config/lists')).status, 401);

  t.equal((await c.req('/edges/edge-002', { method: 'DELETE', token: c.adminToken })).status, 204);
  const orphan = await ok(c, 'GET', '/config/lists/theirs');
  t.match(orphan, { edge_id: 'edge-002', entries_count: 1, edges: [] }, "a deleted edge's list stays, applied by no edge");
  t.same((await ok(c, 'GET', '/config/lists/all')).edges.map((e: any) => e.id), ['edge-001']);
});

t.test('the version moves with every change of the list or its entries, never on a write that changes nothing', async (t) => {
  const { c } = await site(t);
  const versions: string[] = [];
  const now = async () => (await ok(c, 'GET', '/config/lists/v')).version as string;
  const step = async (what: string, f: () => Promise<unknown>, moves = true) => {
    const before = await now();
    await f();
    const after = await now();
    if (moves) {
      t.ok(Number(after) > Number(before), `${what}: moves up (${before} → ${after})`);
      t.notOk(versions.includes(after), `${what}: a version never used before`);
    } else t.equal(after, before, `${what}: unchanged`);
    versions.push(after);
  };
  versions.push((await ok(c, 'POST', '/config/lists', { id: 'v', name: 'V', type: 'allow', entries: [{ plate: 'A1' }] })).version);
  const fields = { name: 'V', type: 'allow' };
  await step('fields replaced', () => ok(c, 'PUT', '/config/lists/v', { ...fields, enabled: false }));
  await step('the same fields again', () => ok(c, 'PUT', '/config/lists/v', { ...fields, enabled: false }), false);
  await step('an entry added', () => ok(c, 'POST', '/config/lists/v/entries', { entries: [{ plate: 'B2' }] }, 200));
  await step('an entry changed', () => ok(c, 'POST', '/config/lists/v/entries', { entries: [{ plate: 'B2', label: 'Bob' }] }, 200));
  await step('the same entry again', () => ok(c, 'POST', '/config/lists/v/entries', { entries: [{ plate: 'b-2', label: 'Bob' }] }, 200), false);
  await step('entries replaced', () => ok(c, 'PUT', '/config/lists/v/entries', { entries: [{ plate: 'C3' }] }, 200));
  await step('the same set again', () => ok(c, 'PUT', '/config/lists/v/entries', { entries: [{ plate: 'C3' }] }, 200), false);
  await step('an entry removed', () => ok(c, 'DELETE', '/config/lists/v/entries/c-3', undefined, 204));
  t.equal((await c.req('/config/lists/v/entries/C3', { method: 'DELETE', token: c.adminToken })).status, 404, 'a plate not in the list');

  // Deleted and created again with the same id: still a version never served before.
  await ok(c, 'DELETE', '/config/lists/v', undefined, 204);
  const again = await ok(c, 'POST', '/config/lists', { id: 'v', name: 'V', type: 'allow' });
  t.notOk(versions.includes(again.version), 'a re-created list does not reuse a version');

  const r = await ok(c, 'POST', '/config/lists/v/entries', { entries: [{ plate: 'D4' }, { plate: 'E5' }] }, 200);
  t.match(r, { added: 2, updated: 0, removed: 0, unchanged: 0, list: { entries_count: 2 } });
  const rep = await ok(c, 'PUT', '/config/lists/v/entries', { entries: [{ plate: 'D4' }, { plate: 'F6' }, { plate: 'E5', label: 'changed' }] }, 200);
  t.match(rep, { added: 1, updated: 1, removed: 0, unchanged: 1, list: { entries_count: 3 } });
  const rep2 = await ok(c, 'PUT', '/config/lists/v/entries', { entries: [{ plate: 'D4' }] }, 200);
  t.match(rep2, { added: 0, updated: 0, removed: 2, unchanged: 1, list: { entries_count: 1 } });
});

t.test('bad input: a 400 naming the field, and nothing stored', async (t) => {
  const { c } = await site(t);
  const bad = async (what: string, json: unknown, fields: string[], path = '/config/lists', method = 'POST') => {
    const r = await c.req(path, { method, token: c.adminToken, json });
    t.equal(r.status, 400, `${what}: 400`);
    const body = await r.json();
    t.same(body.errors.map((e: any) => e.field), fields, `${what}: names ${fields.join(', ')}`);
    for (const e of body.errors) t.ok(e.message.startsWith(e.field), `${what}: the message starts with the field`);
  };
  await bad('a plate of 200 characters', { name: 'L', type: 'allow', entries: [{ plate: 'A1' }, { plate: 'A'.repeat(200) }] }, ['entries.1.plate']);
  await bad('a plate of 17 letters and digits', { name: 'L', type: 'allow', entries: [{ plate: 'A'.repeat(17) }] }, ['entries.0.plate']);
  await bad('a plate of dashes only', { name: 'L', type: 'allow', entries: [{ plate: '--' }] }, ['entries.0.plate']);
  await bad('one plate twice after normalisation', { name: 'L', type: 'allow', entries: [{ plate: 'AB-1' }, { plate: 'C2' }, { plate: 'ab1' }] }, ['entries.2.plate']);
  await bad('25:00', { name: 'L', type: 'allow', entries: [{ plate: 'A1', schedule: [{ days: ['mon'], from: '07:00', to: '25:00' }] }] }, ['entries.0.schedule.0.to']);
  await bad('from equal to to', { name: 'L', type: 'allow', entries: [{ plate: 'A1', schedule: [{ days: ['mon'], from: '07:00', to: '07:00' }] }] }, ['entries.0.schedule.0.to']);
  await bad('valid_until before valid_from', { name: 'L', type: 'allow', entries: [{ plate: 'A1', valid_from: '2024-02-01T00:00:00Z', valid_until: '2024-01-01T00:00:00Z' }] }, ['entries.0.valid_until']);
  await bad('an unknown type', { name: 'L', type: 'maybe' }, ['type']);
  await bad('an unknown field', { name: 'L', type: 'allow', colour: 'red' }, ['colour']);
  await bad('an unregistered edge', { name: 'L', type: 'allow', edge_id: 'edge-nope' }, ['edge_id']);
  await bad('an unknown camera', { name: 'L', type: 'allow', camera_ids: ['cam-a', 'cam-nope'] }, ['camera_ids.1']);
  await bad("another edge's camera", { name: 'L', type: 'allow', edge_id: 'edge-001', camera_ids: ['cam-b'] }, ['camera_ids.0']);
  let deep: unknown = 'x';
  for (let i = 0; i < 200; i++) deep = [deep];
  await bad('JSON nested 200 deep', { name: 'L', type: 'allow', entries: [{ plate: 'A1', label: deep }] }, ['entries']);
  await bad('a time zone that does not exist', { name: 'L', type: 'allow', timezone: 'Mars/Olympus' }, ['timezone']);
  t.equal((await (await c.req('/config/lists', { token: c.adminToken })).json()).total, 0, 'no list was stored');

  await ok(c, 'POST', '/config/lists', { id: 'l', name: 'L', type: 'allow', entries: [{ plate: 'KEEP1' }] });
  const version = (await ok(c, 'GET', '/config/lists/l')).version;
  await bad('entries: one bad among good ones', { entries: [{ plate: 'NEW1' }, { plate: 'NEW2', valid_from: 'yesterday' }] }, ['entries.1.valid_from'], '/config/lists/l/entries');
  await bad('replace: a plate twice', { entries: [{ plate: 'NEW1' }, { plate: 'new 1' }] }, ['entries.1.plate'], '/config/lists/l/entries', 'PUT');
  const many = Array.from({ length: 500 }, (_, i) => ({ plate: `P${i}`, label: 7 }));
  const r = await c.req('/config/lists/l/entries', { method: 'POST', token: c.adminToken, json: { entries: many } });
  t.equal(r.status, 400);
  t.equal((await r.json()).errors.length, 20, '500 bad entries: the first 20 are named, not 500');
  const after = await ok(c, 'GET', '/config/lists/l');
  t.match(after, { version, entries_count: 1 }, 'nothing of a refused body was stored');
  const notJson = await c.req('/config/lists/l/entries', { method: 'POST', token: c.adminToken, body: '{"entries": [', headers: { 'content-type': 'application/json' } });
  t.equal(notJson.status, 400);
  const xml = await c.req('/config/lists/l/entries', { method: 'POST', token: c.adminToken, body: '<entries/>', headers: { 'content-type': 'application/xml' } });
  t.equal(xml.status, 415);
  t.equal((await c.req('/config/lists/l/entries?limit=10001', { token: c.adminToken })).status, 400, 'a page holds at most 10,000 entries');
  t.equal((await c.req('/config/lists/l/entries?colour=red', { token: c.adminToken })).status, 400, 'an unknown query parameter');
  t.equal(MAX_LIST_ENTRIES, 200_000);
});

t.test(`an edge applies at most ${EDGE_LIMITS.lists} lists: one more is a 400 naming edge_id`, async (t) => {
  const { c } = await site(t);
  const most = EDGE_LIMITS.lists;
  const fields = (name: string, edge_id: string | null) => ({ name, type: 'allow' as const, edge_id, camera_ids: [], direction: 'any' as const, match: { mode: 'exact' as const, confusable_cost: 0, max_distance: 0 }, timezone: null, enabled: true });
  // Filled through the store (a thousand HTTP round trips add nothing to what is tested).
  for (let i = 0; i < most - 1; i++) await c.ctx.lists.create(null, fields(`g${i}`, i % 2 ? null : 'edge-001'), []);
  await ok(c, 'POST', '/config/lists', { id: 'last', name: 'last', type: 'allow', edge_id: 'edge-001' });
  const over = await c.req('/config/lists', { method: 'POST', token: c.adminToken, json: { name: 'one more', type: 'allow', edge_id: 'edge-001' } });
  t.equal(over.status, 400);
  const body = await over.json();
  t.same(body.errors.map((e: any) => e.field), ['edge_id']);
  t.match(body.errors[0].message, new RegExp(`edge edge-001 applies ${most} lists`));
  const global = await c.req('/config/lists', { method: 'POST', token: c.adminToken, json: { name: 'for all', type: 'allow' } });
  t.equal(global.status, 400, 'a list for every edge is one more for edge-001 too');
  t.equal((await c.req('/config/lists', { method: 'POST', token: c.adminToken, json: { name: 'for B', type: 'allow', edge_id: 'edge-002' } })).status, 201, 'edge-002 has room');
  const moved = await c.req('/config/lists/last', { method: 'PUT', token: c.adminToken, json: { name: 'last', type: 'deny', edge_id: 'edge-001' } });
  t.equal(moved.status, 200, 'a list already counted may change');
});

t.test('the OpenAPI document declares every list route with its schemas', async (t) => {
  const { c } = await site(t);
  const doc = await (await c.req('/openapi.json')).json();
  const want: Array<[string, string[]]> = [
    ['/config/lists', ['get', 'post']],
    ['/config/lists/{id}', ['get', 'put', 'delete']],
    ['/config/lists/{id}/entries', ['get', 'post', 'put']],
    ['/config/lists/{id}/entries/{plate}', ['delete']],
    ['/config/lists/{id}/entries.csv', ['get']],
  ];
  for (const [path, methods] of want) for (const m of methods) t.ok(doc.paths[path]?.[m], `${m.toUpperCase()} ${path}`);
  t.ok(doc.paths['/config/lists/{id}/entries'].post.requestBody.content['text/csv'], 'entries take CSV');
  t.ok(doc.paths['/config/lists/{id}/entries'].post.responses['413'], 'and may answer 413');
  t.ok(doc.paths['/config/lists/{id}/entries.csv'].get.responses['200'].content['text/csv']);
  for (const s of ['ListCreate', 'ListUpdate', 'ListEntry', 'List', 'ListDetail', 'ListEntriesPage', 'ListEntriesResult', 'ScheduleWindow']) t.ok(doc.components.schemas[s], `schema ${s}`);
  t.ok(doc.components.schemas.EdgeStatus.properties.lists, 'EdgeStatus.lists');
});
