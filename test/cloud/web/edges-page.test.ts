/**
 * The Edges page and the camera form's edge, in headless Chromium against a real cloud: edges
 * report through the real heartbeat route with their own keys, the page shows what `GET /edges`
 * serves, follows a change of status from the stream without a reload, opens an edge's cameras,
 * adds an edge (its key shown once, with the config snippet) and deletes one; a camera made in
 * the form goes to the edge chosen in it.
 */
import t from 'tap';
import { chromiumSkip, openPage, signIn } from '../../fixtures/browser.js';
import { startTestCloud, ADMIN_PASSWORD, type TestCloud } from '../helpers.js';

const skip = chromiumSkip;

function heartbeat(cameras: Array<{ id: string; state: string; fps: number }>, over: Record<string, unknown> = {}) {
  return {
    instance_id: 'inst-web-0001',
    sent_at: new Date().toISOString(),
    interval_s: 30,
    version: '9.1.0',
    uptime_s: 7200,
    health: 'ok',
    problems: [],
    cameras: cameras.map((c) => ({ ...c, error: null })),
    outbox: { pending: 7, dead_letters: 2, exporters: [{ id: 'cloud', pending: 7, dead_letters: 2 }] },
    config: { version: 'abcdef0123456789', applied_at: new Date().toISOString(), error: null, problems: [] },
    ...over,
  };
}

async function beat(c: TestCloud, edge: string, key: string, body: unknown): Promise<void> {
  const r = await c.req(`/edges/${edge}/heartbeat`, { method: 'POST', key, json: body, headers: { 'x-edge-instance': 'inst-web-0001' } });
  if (r.status !== 200) throw new Error(`heartbeat ${edge}: ${r.status} ${await r.text()}`);
}

t.test('Edges page and the camera form with its edge', { skip }, async (t) => {
  const c = await startTestCloud(t);
  const gate1Key = (await c.ctx.apiKeys.create('gate-1', 'Gate one box')).key;
  await c.ctx.apiKeys.create('gate-2');
  const cam = (name: string, edge_id: string | null) =>
    c.ctx.config.create('cameras', { name, rtsp_url: 'rtsp://127.0.0.1:9/none', enabled: true, edge_id, zone_id: null, fps: 10, resolution: { width: 1920, height: 1080 }, detection_model: null, ocr_models: [], metadata: {} });
  const entry = await cam('Entry lane', 'gate-1');
  const exit = await cam('Exit lane', 'gate-1');
  // gate-1 is heard: one camera running, the other stalled (degraded); gate-2 never reported.
  await beat(c, 'gate-1', gate1Key, heartbeat([{ id: entry.id, state: 'running', fps: 9.7 }, { id: exit.id, state: 'stalled', fps: 0 }], { health: 'degraded', problems: [`camera ${exit.id} stalled`] }));

  const page = await openPage(t);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await signIn(page, `${c.url}/#/edges`, 'admin', ADMIN_PASSWORD, '[data-testid=edges-table]');
  const row = (id: string) => page.locator(`[data-testid=edges-table] tr[data-id="${id}"]`);

  await t.test('the list shows each edge with its status in words, cameras up, outbox and config', async (t) => {
    const api = (await (await c.req('/edges', { token: c.adminToken })).json()) as { items: Array<{ id: string; status: string }> };
    t.same(api.items.map((e) => e.id).sort(), ['edge-001', 'gate-1', 'gate-2']);
    t.equal(await page.locator('[data-testid=edges-table] tbody tr').count(), 3, 'one row per edge');
    const g1 = row('gate-1');
    t.equal(await g1.locator('[data-testid=edge-status]').getAttribute('data-status'), 'degraded');
    t.match(await g1.locator('[data-testid=edge-status]').textContent(), /degraded/, 'the status is written, not only coloured');
    t.equal(await g1.locator('[data-testid=cameras-up]').textContent(), '1 / 2', 'running / assigned');
    t.match(await g1.locator('[data-testid=outbox]').textContent(), /7 pending.*2 dead/);
    t.match(await g1.locator('[data-testid=edge-config]').textContent(), /abcdef01.*pending/, 'the edge runs another version than the cloud serves');
    t.match(await g1.textContent(), /9\.1\.0/);
    t.match(await g1.textContent(), new RegExp(`camera ${exit.id} stalled`), 'its problems');
    t.match(await g1.locator('[data-testid=last-seen]').textContent(), /s ago$/);
    t.ok(await g1.locator('[data-testid=last-seen]').getAttribute('title'), 'the absolute time as title');
    const g2 = row('gate-2');
    t.equal(await g2.locator('[data-testid=edge-status]').getAttribute('data-status'), 'offline');
    t.equal(await g2.locator('[data-testid=last-seen]').textContent(), 'never');
  });

  await t.test('a change of status arrives on the stream and updates the row without a reload', async (t) => {
    await page.waitForSelector('[data-testid=edges-live]:has-text("Live")');
    const marker = await page.evaluate(() => ((window as unknown as { __same: number }).__same = 1));
    await beat(c, 'gate-1', gate1Key, heartbeat([{ id: entry.id, state: 'running', fps: 9.9 }, { id: exit.id, state: 'running', fps: 10 }]));
    // Well within the 10 s poll: only the stream's edge_status message can bring it this soon.
    await page.waitForSelector('[data-testid=edges-table] tr[data-id="gate-1"] [data-status=online]', { timeout: 5000 });
    t.equal(await row('gate-1').locator('[data-testid=cameras-up]').textContent(), '2 / 2');
    t.equal(await page.evaluate(() => (window as unknown as { __same?: number }).__same), marker, 'same document, no reload');
  });

  await t.test("a row opens the edge's detail: its cameras with state and fps", async (t) => {
    await row('gate-1').locator('td').nth(3).click();
    await page.waitForSelector('[data-testid=edge-cameras]');
    t.match(page.url(), /#\/edges\/gate-1$/);
    const cams = await page.$$eval('[data-testid=edge-cameras] tbody tr', (trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => td.textContent)));
    t.same(cams, [
      ['Entry lane', 'running', '9.9', ''],
      ['Exit lane', 'running', '10.0', ''],
    ]);
    t.equal(await page.locator('[data-testid=edge-keys] [data-testid=keys-table] tbody tr').count(), 1, "its key, and only its own");
  });

  let sideId = '';
  await t.test('the camera form assigns the camera to the edge chosen', async (t) => {
    await page.evaluate(() => (location.hash = '#/config/cameras/new'));
    await page.waitForSelector('#fld-edge_id');
    const options = await page.$$eval('#fld-edge_id option', (os) => os.map((o) => (o as HTMLOptionElement).value));
    t.same(options, ['', 'edge-001', 'gate-1', 'gate-2'], '— none — and every edge');
    await page.fill('#fld-name', 'Side door');
    await page.fill('#fld-rtsp_url', 'rtsp://127.0.0.1:8554/side');
    await page.selectOption('#fld-edge_id', 'gate-2');
    await page.fill('#fld-metadata-capture-heartbeat_s', '15');
    await page.fill('#fld-metadata-capture-input_options', '-rtsp_transport tcp\n-vf evil');
    await page.click('[data-testid=save]');
    await page.waitForSelector('[data-key="metadata.capture.input_options"] .field-error:not(:empty)');
    t.pass('an option off the allowlist is refused next to its field');
    await page.fill('#fld-metadata-capture-input_options', '-rtsp_transport tcp');
    await page.click('[data-testid=save]');
    await page.waitForSelector('[data-testid=cameras-table] td:has-text("Side door")');
    const side = ((await (await c.req('/config/cameras?limit=100', { token: c.adminToken })).json()) as { items: Array<Record<string, any>> }).items.find((x) => x.name === 'Side door')!;
    sideId = side.id;
    t.equal(side.edge_id, 'gate-2', 'the API has the camera on the edge chosen');
    t.same(side.metadata.capture, { heartbeat_s: 15, input_options: [{ option: '-rtsp_transport', value: 'tcp' }] });
    t.match(await page.textContent(`[data-testid=cameras-table] tr[data-id="${side.id}"]`), /gate-2/, 'the list shows its edge');
    // Back in the form, the edge is selected; "— none —" unassigns it.
    await page.evaluate((id) => (location.hash = `#/config/cameras/${id}`), side.id);
    await page.waitForSelector('#fld-edge_id');
    t.equal(await page.inputValue('#fld-edge_id'), 'gate-2');
  });

  await t.test('an exporter is for one edge or for all', async (t) => {
    await page.evaluate(() => (location.hash = '#/config/exporters/new'));
    await page.waitForSelector('#fld-edge_id');
    t.equal(await page.$eval('#fld-edge_id option[value=""]', (o) => o.textContent), 'All edges');
    t.equal(await page.inputValue('#fld-edge_id'), '', 'all edges unless chosen');
    await page.fill('#fld-name', 'Gate one MQTT');
    await page.selectOption('#fld-type', 'mqtt');
    await page.fill('#fld-url', 'mqtt://127.0.0.1:1883');
    await page.selectOption('#fld-edge_id', 'gate-1');
    await page.click('[data-testid=save]');
    await page.waitForSelector('[data-testid=exporters-table] td:has-text("Gate one MQTT")');
    const items = ((await (await c.req('/config/exporters', { token: c.adminToken })).json()) as { items: Array<{ name: string; edge_id: string | null }> }).items;
    t.equal(items.find((x) => x.name === 'Gate one MQTT')?.edge_id, 'gate-1');
  });

  await t.test('admin adds an edge: its key once, with the config snippet, and the key works', async (t) => {
    await page.evaluate(() => (location.hash = '#/edges'));
    await page.click('[data-testid=add-edge]');
    await page.fill('#edge-id', 'gate-3');
    await page.click('[data-testid=add-edge-form] button[type=submit]');
    const key = (await page.textContent('[data-testid=key-value]'))!;
    t.match(key, /^anpr_/);
    const snippet = (await page.textContent('[data-testid=edge-snippet]'))!;
    t.match(snippet, /edge_id: gate-3/);
    t.match(snippet, new RegExp(`url: ${c.url}`));
    t.match(snippet, new RegExp(`api_key: ${key}`));
    await page.waitForSelector('[data-testid=edges-table] tr[data-id="gate-3"]');
    await beat(c, 'gate-3', key, heartbeat([]));
    t.pass('the new edge reports with the key shown');
  });

  await t.test('delete says its cameras become unassigned, and does it', async (t) => {
    await page.evaluate(() => (location.hash = '#/edges/gate-2'));
    await page.waitForSelector('[data-testid=delete-edge]');
    let said = '';
    page.once('dialog', (d) => {
      said = d.message();
      void d.accept();
    });
    await page.click('[data-testid=delete-edge]');
    await page.waitForSelector('[data-testid=edges-table]');
    t.match(said, /1 camera becomes unassigned/);
    t.notOk(await row('gate-2').count(), 'gone from the list');
    t.equal((await c.req('/edges/gate-2', { token: c.adminToken })).status, 404);
    const side = (await (await c.req(`/config/cameras/${sideId}`, { token: c.adminToken })).json()) as { edge_id: string | null };
    t.equal(side.edge_id, null, 'its camera has no edge now');
  });

  await t.test('a viewer sees the edges, read only', async (t) => {
    await c.ctx.users.create('vera', 'viewer-pass', 'viewer');
    await page.click('button:has-text("Sign out")');
    await signIn(page, `${c.url}/#/edges`, 'vera', 'viewer-pass', '[data-testid=edges-table]');
    t.equal(await page.locator('[data-testid=add-edge]').count(), 0, 'no Add edge');
    await page.evaluate(() => (location.hash = '#/edges/gate-1'));
    await page.waitForSelector('[data-testid=edge-cameras]');
    t.equal(await page.locator('[data-testid=delete-edge]').count(), 0, 'no Delete');
    t.equal(await page.locator('[data-testid=edge-keys]').count(), 0, 'no keys');
  });

  t.same(errors, [], 'no script errors');
});
