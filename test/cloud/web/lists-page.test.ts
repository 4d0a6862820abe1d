/**
 * The Lists page in headless Chromium against a real cloud: an admin makes a list in the form,
 * adds, updates and removes entries (the API's refusal shown next to the field), imports a CSV
 * (a bad line is shown with its line and column, and nothing is stored), replaces all entries
 * from a file, pages and searches the entries, exports them through the link, and sees which
 * edges decide with the current version (edges report through the real heartbeat route); a
 * viewer and an operator see it all read-only, without a single edit control.
 */
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromiumSkip, openPage, signIn } from '../../fixtures/browser.js';
import { heartbeatBody } from '../../fixtures/edge-heartbeat.js';
import { startTestCloud, ADMIN_PASSWORD, type TestCloud } from '../helpers.js';

const skip = chromiumSkip;

interface ApiList {
  id: string;
  name: string;
  type: string;
  edge_id: string | null;
  camera_ids: string[];
  direction: string;
  version: string;
  entries_count: number;
  timezone: string | null;
  edges: Array<{ id: string; version: string | null; current: boolean }>;
}

async function getJson<T>(c: TestCloud, path: string): Promise<T> {
  const r = await c.req(path, { token: c.adminToken });
  if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}

async function beat(c: TestCloud, edge: string, key: string, lists: Array<{ id: string; version: string }>): Promise<void> {
  const r = await c.req(`/edges/${edge}/heartbeat`, { method: 'POST', key, json: heartbeatBody({ cameras: [], lists }), headers: { 'x-edge-instance': heartbeatBody().instance_id } });
  if (r.status !== 200) throw new Error(`heartbeat ${edge}: ${r.status} ${await r.text()}`);
}

t.test('Lists page: CRUD, entries, CSV import and export, edges, roles', { skip }, async (t) => {
  const c = await startTestCloud(t);
  const gate1Key = (await c.ctx.apiKeys.create('gate-1', 'Gate one')).key;
  const gate2Key = (await c.ctx.apiKeys.create('gate-2', 'Gate two')).key;
  const entry = await c.ctx.config.create('cameras', { name: 'Entry lane', rtsp_url: 'rtsp://127.0.0.1:9/none', enabled: true, edge_id: 'gate-1', zone_id: null, fps: 10, resolution: { width: 1920, height: 1080 }, detection_model: null, ocr_models: [], metadata: {} });
  const yard = await c.ctx.config.create('cameras', { name: 'Yard', rtsp_url: 'rtsp://127.0.0.1:9/none', enabled: true, edge_id: 'gate-2', zone_id: null, fps: 10, resolution: { width: 1920, height: 1080 }, detection_model: null, ocr_models: [], metadata: {} });
  await c.ctx.users.create('vera', 'viewer-pass', 'viewer');
  await c.ctx.users.create('otto', 'operator-pass', 'operator');
  const files = mkdtempSync(join(tmpdir(), 'anpr-lists-web-'));
  t.teardown(() => rmSync(files, { recursive: true, force: true }));

  const page = await openPage(t);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.accept();
  });
  const go = (hash: string) => page.evaluate((h) => (location.hash = h), hash);
  await signIn(page, `${c.url}/#/lists`, 'admin', ADMIN_PASSWORD, '[data-testid=new-list]');
  t.equal(await page.locator('nav.mainnav a[href="#/lists"]').count(), 1, 'Lists is in the nav');

  let id = '';
  await t.test('admin makes a list in the form', async (t) => {
    await page.click('[data-testid=new-list]');
    await page.waitForSelector('[data-testid=list-form]');
    await page.fill('#list-name', 'Staff');
    await page.selectOption('#list-type', 'allow');
    t.ok(await page.isVisible(`#list-cam-${yard.id}`), 'for all edges, every camera is offered');
    await page.selectOption('#list-edge_id', 'gate-1');
    t.notOk(await page.isVisible(`#list-cam-${yard.id}`), "one edge chosen: another edge's camera is not offered");
    await page.selectOption('#list-direction', 'in');
    await page.check(`#list-cam-${entry.id}`);
    await page.fill('#list-timezone', 'Mars/Olympus');
    await page.click('[data-testid=save-list]');
    await page.waitForSelector('[data-key=timezone] .field-error:not(:empty)');
    t.match(await page.textContent('[data-key=timezone] .field-error'), /time zone/, "the API's refusal next to its field");
    t.equal((await getJson<{ total: number }>(c, '/config/lists')).total, 0, 'nothing made');
    await page.fill('#list-timezone', 'Europe/Berlin');
    await page.click('[data-testid=save-list]');
    await page.waitForFunction(() => /#\/lists\/[^/]+$/.test(location.hash) && !location.hash.endsWith('/new'));
    await page.waitForSelector('[data-testid=entries-card]');
    id = decodeURIComponent(page.url().split('#/lists/')[1]!);
    const l = await getJson<ApiList>(c, `/config/lists/${id}`);
    t.match(l, { name: 'Staff', type: 'allow', edge_id: 'gate-1', camera_ids: [entry.id], direction: 'in', timezone: 'Europe/Berlin', entries_count: 0 });
    t.match(await page.textContent('[data-testid=list-title]'), /Staff.*allow/);
  });

  await t.test('entries: add (normalised), refuse a bad one next to its field, update, remove', async (t) => {
    await page.fill('#entry-plate', 'ab-123');
    await page.fill('#entry-label', 'Alice');
    await page.fill('#entry-schedule', 'mon-fri 07:00-19:00; sat 08:00-12:00');
    await page.click('[data-testid=add-entry]');
    await page.waitForSelector('[data-testid=entries-table] tr[data-plate=AB123]');
    const row = page.locator('[data-testid=entries-table] tr[data-plate=AB123]');
    t.match(await row.textContent(), /Alice.*mon-fri 07:00-19:00; sat 08:00-12:00/);
    const stored = await getJson<{ items: Array<Record<string, unknown>> }>(c, `/config/lists/${id}/entries`);
    t.match(stored.items, [{ plate: 'AB123', label: 'Alice', schedule: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '07:00', to: '19:00' }, { days: ['sat'], from: '08:00', to: '12:00' }] }]);

    await page.fill('#entry-plate', 'ZZ9');
    await page.fill('#entry-schedule', 'mon 25:00-26:00');
    await page.click('[data-testid=add-entry]');
    await page.waitForSelector('[data-key=schedule] .field-error:not(:empty)');
    t.match(await page.textContent('[data-key=schedule] .field-error'), /HH:MM/, 'a time the API refuses, next to the schedule');
    await page.fill('#entry-schedule', 'someday');
    await page.click('[data-testid=add-entry]');
    await page.waitForSelector('[data-key=schedule] .field-error:has-text("expected DAYS")');
    await page.fill('#entry-schedule', '');
    await page.fill('#entry-plate', '---');
    await page.click('[data-testid=add-entry]');
    await page.waitForSelector('[data-key=plate] .field-error:not(:empty)');
    t.match(await page.textContent('[data-key=plate] .field-error'), /letter or digit/, 'a plate with nothing in it');
    t.equal((await getJson<ApiList>(c, `/config/lists/${id}`)).entries_count, 1, 'nothing stored from the refused ones');

    await row.locator('button:has-text("Edit")').click();
    t.equal(await page.inputValue('#entry-plate'), 'AB123');
    t.equal(await page.inputValue('#entry-schedule'), 'mon-fri 07:00-19:00; sat 08:00-12:00', 'the form takes the entry as it is');
    await page.fill('#entry-label', 'Alice Smith');
    await page.click('[data-testid=add-entry]');
    await page.waitForSelector('[data-testid=entries-table] tr[data-plate=AB123]:has-text("Alice Smith")');
    t.equal((await getJson<ApiList>(c, `/config/lists/${id}`)).entries_count, 1, 'updated, not added');

    await page.fill('#entry-plate', 'GONE1');
    await page.click('[data-testid=add-entry]');
    await page.waitForSelector('[data-testid=entries-table] tr[data-plate=GONE1]');
    await page.click('[data-testid=entries-table] tr[data-plate=GONE1] [data-testid=remove-entry]');
    await page.waitForSelector('[data-testid=entries-table] tr[data-plate=GONE1]', { state: 'detached' });
    t.match(dialogs.at(-1), /Remove GONE1/);
    const after = await getJson<{ items: Array<{ plate: string }> }>(c, `/config/lists/${id}/entries`);
    t.same(after.items.map((e) => e.plate), ['AB123'], 'removed in the API');
  });

  await t.test('CSV import: a bad line is shown with its line and column, nothing stored; a good file is', async (t) => {
    const before = await getJson<ApiList>(c, `/config/lists/${id}`);
    const bad = join(files, 'bad.csv');
    writeFileSync(bad, 'plate,label,schedule\nCSV1,One,mon-fri 07:00-19:00\nCSV2,Two,mon 25:00-26:00\nCSV3,Three,\n');
    await page.setInputFiles('[data-testid=csv-file]', bad);
    await page.click('[data-testid=csv-import]');
    await page.waitForSelector('[data-testid=csv-errors] li');
    const errs = await page.$$eval('[data-testid=csv-errors] li', (lis) => lis.map((li) => li.textContent));
    t.ok(errs.length >= 1 && errs.every((e) => /^line 3, schedule: /.test(e ?? '')), `the line and the column: ${errs.join(' | ')}`);
    t.match(await page.textContent('[data-testid=csv-error]'), /nothing was stored/);
    const unchanged = await getJson<ApiList>(c, `/config/lists/${id}`);
    t.equal(unchanged.entries_count, before.entries_count, 'all or nothing');
    t.equal(unchanged.version, before.version, 'not even the version moved');

    const rows = Array.from({ length: 120 }, (_, i) => `IMP${String(i).padStart(3, '0')},Imported ${i},`);
    const good = join(files, 'good.csv');
    writeFileSync(good, ['plate,label,schedule', ...rows, 'ab 123,Alice from CSV,sat-sun 00:00-24:00'].join('\n') + '\n');
    await page.setInputFiles('[data-testid=csv-file]', good);
    await page.click('[data-testid=csv-import]');
    await page.waitForSelector('[data-testid=csv-ok]');
    t.match(await page.textContent('[data-testid=csv-ok]'), /120 added, 1 updated; the list has 121 entries/);
    await page.waitForSelector('[data-testid=entries-total]:has-text("121 entries")');
    t.equal((await getJson<ApiList>(c, `/config/lists/${id}`)).entries_count, 121);
  });

  await t.test('entries page by 50 and search by plate prefix', async (t) => {
    const plates = () => page.$$eval('[data-testid=entries-table] tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-plate')));
    t.equal((await plates()).length, 50);
    t.equal(await page.textContent('[data-testid=entries-range]'), '1–50 of 121');
    t.ok(await page.isDisabled('[data-testid=entries-prev]'));
    await page.click('[data-testid=entries-next]');
    await page.waitForSelector('[data-testid=entries-range]:has-text("51–100 of 121")');
    const second = await plates();
    t.equal(second.length, 50);
    t.equal(second[0], 'IMP049', 'plate order, the second page');
    await page.fill('#entry-search', 'imp-11');
    await page.waitForSelector('[data-testid=entries-total]:has-text("10 entries match")');
    t.same(await plates(), Array.from({ length: 10 }, (_, i) => `IMP11${i}`), 'the prefix is normalised like the plates');
    t.equal(await page.textContent('[data-testid=entries-range]'), '1–10 of 10', 'a new search starts at the first page');
    await page.fill('#entry-search', 'NOSUCH');
    await page.waitForSelector('[data-testid=entries]:has-text("No plate starts with that")');
    await page.fill('#entry-search', '');
    await page.waitForSelector('[data-testid=entries-total]:has-text("121 entries")');
  });

  await t.test('export: a link to the CSV that downloads the same file the API serves', async (t) => {
    t.match(await page.getAttribute('[data-testid=export-csv]', 'href'), new RegExp(`/config/lists/${id}/entries\\.csv$`));
    const download = page.waitForEvent('download');
    await page.click('[data-testid=export-csv]');
    const d = await download;
    const text = readFileSync((await d.path())!, 'utf8');
    const api = await (await c.req(`/config/lists/${id}/entries.csv`, { token: c.adminToken })).text();
    t.equal(text, api, 'byte for byte');
    t.match(text.split(/\r?\n/)[0], /^plate,label,valid_from,valid_until,schedule,rfid$/);
    t.match(text, /\r?\nAB123,Alice from CSV,,,"sat,sun 00:00-24:00",\r?\n/, 'the schedule in the form it was imported in');
  });

  await t.test('edges: current or behind, on the list and in the index', async (t) => {
    const v1 = (await getJson<ApiList>(c, `/config/lists/${id}`)).version;
    await beat(c, 'gate-1', gate1Key, [{ id, version: v1 }]);
    await go('#/lists');
    await page.waitForSelector(`[data-testid=lists-table] tr[data-id="${id}"]`);
    const row = page.locator(`[data-testid=lists-table] tr[data-id="${id}"]`);
    t.match(await row.locator('[data-testid=edges-current]').textContent(), /^1 \/ 1 current$/, 'gate-1 decides with this version');
    t.equal(await row.locator('[data-testid=entries-count]').textContent(), '121');
    t.match(await row.textContent(), /Staff.*allow.*gate-1.*Entry lane.*in.*121/);

    await go(`#/lists/${id}`);
    await page.waitForSelector('[data-testid=list-edges] tr[data-id=gate-1]');
    t.equal(await page.getAttribute('[data-testid=list-edges] tr[data-id=gate-1] [data-testid=edge-list-state]', 'data-current'), 'true');
    // A change moves the version: gate-1 is behind until its next heartbeat says otherwise.
    await page.fill('#entry-plate', 'NEW1');
    await page.click('[data-testid=add-entry]');
    await page.waitForSelector('[data-testid=list-edges] tr[data-id=gate-1] [data-current=false]');
    t.match(await page.textContent('[data-testid=list-edges] tr[data-id=gate-1]'), /behind/);
    t.equal(await page.textContent('[data-testid=list-version]'), (await getJson<ApiList>(c, `/config/lists/${id}`)).version.slice(0, 8), 'the version shown moved with it');
    await go('#/lists');
    await page.waitForSelector(`[data-testid=lists-table] tr[data-id="${id}"]`);
    t.match(await row.locator('[data-testid=edges-current]').textContent(), /0 \/ 1 current.*1 behind/);

    // A list for every edge is applied by both.
    const all = await c.req('/config/lists', { method: 'POST', token: c.adminToken, json: { name: 'Stolen', type: 'watch', entries: [{ plate: 'HOT1' }] } });
    t.equal(all.status, 201);
    const watch = (await all.json()) as ApiList;
    await beat(c, 'gate-2', gate2Key, [{ id: watch.id, version: watch.version }]);
    await go(`#/lists/${watch.id}`);
    await page.waitForSelector('[data-testid=list-title]:has-text("Stolen")');
    await go('#/lists');
    await page.waitForSelector(`[data-testid=lists-table] tr[data-id="${watch.id}"]`);
    t.match(await page.textContent(`[data-testid=lists-table] tr[data-id="${watch.id}"] [data-testid=edges-current]`), /^1 \/ 3 current/, 'every registered edge applies it; only gate-2 reported it');
  });

  await t.test('settings: admin renames the list', async (t) => {
    await go(`#/lists/${id}`);
    await page.waitForSelector('[data-testid=list-form]');
    await page.fill('#list-name', 'Staff and visitors');
    await page.click('[data-testid=save-list]');
    await page.waitForSelector('[data-testid=list-title]:has-text("Staff and visitors")');
    const l = await getJson<ApiList>(c, `/config/lists/${id}`);
    t.equal(l.name, 'Staff and visitors');
    t.equal(l.entries_count, 122, 'the entries stay');
  });

  await t.test('replace all entries from a file', async (t) => {
    const f = join(files, 'replace.csv');
    writeFileSync(f, 'plate,label\nONLY1,One\nONLY2,Two\n');
    await page.setInputFiles('[data-testid=csv-file]', f);
    await page.check('[data-testid=csv-replace]');
    await page.click('[data-testid=csv-import]');
    await page.waitForSelector('[data-testid=csv-ok]');
    t.match(dialogs.at(-1), /Replace all 122 entries/);
    t.match(await page.textContent('[data-testid=csv-ok]'), /2 added, 0 updated, 122 removed/);
    const l = await getJson<{ items: Array<{ plate: string }> }>(c, `/config/lists/${id}/entries`);
    t.same(l.items.map((e) => e.plate), ['ONLY1', 'ONLY2']);
  });

  for (const [user, pass] of [['vera', 'viewer-pass'], ['otto', 'operator-pass']] as const) {
    await t.test(`${user} sees the lists read-only: no edit control anywhere`, async (t) => {
      await page.click('button:has-text("Sign out")');
      await signIn(page, `${c.url}/#/lists`, user, pass, '[data-testid=lists-table]');
      t.equal(await page.locator('[data-testid=new-list]').count(), 0, 'no New list');
      t.equal(await page.locator('[data-testid=read-only]').count(), 1);
      await go(`#/lists/${id}`);
      await page.waitForSelector('[data-testid=entries-table]');
      t.equal(await page.locator('[data-testid=save-list], [data-testid=delete-list]').count(), 0, 'no Save, no Delete');
      t.ok(await page.$$eval('[data-testid=list-form] input, [data-testid=list-form] select', (els) => els.length > 0 && els.every((e) => (e as HTMLInputElement).disabled)), 'every setting disabled');
      t.equal(await page.locator('[data-testid=entry-form], [data-testid=import-form], [data-testid=remove-entry]').count(), 0, 'no add, import or remove');
      t.equal(await page.locator('[data-testid=export-csv]').count(), 1, 'export is reading: allowed');
      await go('#/lists/new');
      await page.waitForSelector('[data-testid=read-only]:has-text("Only admins")');
      t.equal(await page.locator('[data-testid=list-form]').count(), 0, 'no form for a new list');
    });
  }

  await t.test('admin deletes the list', async (t) => {
    await page.click('button:has-text("Sign out")');
    await signIn(page, `${c.url}/#/lists/${id}`, 'admin', ADMIN_PASSWORD, '[data-testid=delete-list]');
    await page.click('[data-testid=delete-list]');
    await page.waitForSelector('[data-testid=lists-table]');
    t.match(dialogs.at(-1), /Delete list “Staff and visitors” and its 2 entries/);
    t.equal(await page.locator(`[data-testid=lists-table] tr[data-id="${id}"]`).count(), 0);
    t.equal((await c.req(`/config/lists/${id}`, { token: c.adminToken })).status, 404);
  });

  t.same(errors, [], 'no script errors');
});
