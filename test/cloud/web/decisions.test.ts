/**
 * The gate's decisions in the back office, in headless Chromium against a real cloud: events
 * ingested with decisions through the API as an edge sends them show a badge (Open / Denied /
 * Alert / —, list, label, direction) in search, the filter by action and "alerts only" reaches
 * the API and the CSV export, the event page shows the whole decision, and a watch-list alert
 * arriving on the live stream raises a banner that stays until dismissed.
 */
import t from 'tap';
import { chromiumSkip, openPage, signIn } from '../../fixtures/browser.js';
import { startTestCloud, event, ADMIN_PASSWORD, type TestCloud } from '../helpers.js';

const skip = chromiumSkip;

type Action = 'open' | 'deny' | 'alert' | 'none';
function decision(action: Action, over: Record<string, unknown> = {}) {
  return {
    action,
    list: null,
    entry_label: null,
    matched_plate: null,
    distance: null,
    direction: null,
    alert: action === 'alert',
    reason: `reason for ${action}`,
    latency_ms: 420,
    ...over,
  };
}
const STAFF = { id: 'lst-staff', name: 'Staff', type: 'allow' };
const BANNED = { id: 'lst-banned', name: 'Banned', type: 'deny' };
const STOLEN = { id: 'lst-stolen', name: 'Stolen cars', type: 'watch' };

async function ingest(c: TestCloud, id: string, extra: Record<string, unknown>): Promise<void> {
  const r = await c.req('/events/ingest', { method: 'POST', key: c.apiKey, json: event(id, extra) });
  if (r.status !== 202) throw new Error(`ingest ${id}: ${r.status} ${await r.text()}`);
}

t.test('decisions on events: badges, filter, event page, live alert banner', { skip }, async (t) => {
  const c = await startTestCloud(t);
  const cam = (name: string) => c.ctx.config.create('cameras', { name, rtsp_url: 'rtsp://127.0.0.1:9/none', enabled: true, edge_id: 'edge-001', zone_id: null, fps: 10, resolution: { width: 1920, height: 1080 }, detection_model: null, ocr_models: [], metadata: {} });
  const gate = await cam('Main gate');
  const side = await cam('Side door');
  const at = (min: number) => new Date(Date.parse('2024-05-01T08:00:00Z') + min * 60_000).toISOString();
  await ingest(c, 'evt-open', { plate_text: 'STAFF1', camera_id: gate.id, timestamp: at(1), decision: decision('open', { list: STAFF, entry_label: 'Alice', matched_plate: 'STAFF1', distance: 0, direction: 'in' }) });
  await ingest(c, 'evt-deny', { plate_text: 'BAD666', camera_id: gate.id, timestamp: at(2), decision: decision('deny', { list: BANNED, entry_label: 'Fly-tipper', matched_plate: 'BAD666', distance: 0.5, direction: 'out', reason: 'on deny list Banned (confusable match)', latency_ms: 812.4 }) });
  await ingest(c, 'evt-alert', { plate_text: 'HOT123', camera_id: side.id, timestamp: at(3), decision: decision('alert', { list: STOLEN, entry_label: 'Reported 12 May', matched_plate: 'HOT123', distance: 0 }) });
  await ingest(c, 'evt-none', { plate_text: 'NOBODY1', camera_id: gate.id, timestamp: at(4), decision: decision('none', { reason: 'no list matched' }) });
  // Opened (allow list) and also on a watch list: the alert must not hide behind the open.
  await ingest(c, 'evt-open-alert', { plate_text: 'TWICE2', camera_id: gate.id, timestamp: at(5), decision: decision('open', { list: STAFF, entry_label: 'Bob', alert: true, direction: 'in' }) });
  await ingest(c, 'evt-legacy', { plate_text: 'OLD1', camera_id: gate.id, timestamp: at(6) });

  const page = await openPage(t);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const go = (hash: string) => page.evaluate((h) => (location.hash = h), hash);
  await signIn(page, `${c.url}/#/search`, 'admin', ADMIN_PASSWORD, '[data-testid=results]');
  const row = (id: string) => page.locator(`[data-testid=results] tr[data-event-id="${id}"]`);
  const badge = async (id: string) =>
    row(id).locator('.decision-line').evaluate((el) => ({
      action: el.querySelector('[data-testid=decision]')!.getAttribute('data-action'),
      text: el.querySelector('[data-testid=decision]')!.textContent,
      alert: !!el.querySelector('[data-testid=decision-alert]'),
      list: el.querySelector('[data-testid=decision-list]')?.textContent ?? null,
      label: el.querySelector('[data-testid=decision-label]')?.textContent ?? null,
      direction: el.querySelector('[data-testid=decision-direction]')?.textContent ?? null,
    }));

  await t.test('search: each event carries its decision as a badge', async (t) => {
    t.equal(await page.locator('[data-testid=results] tbody tr').count(), 6);
    for (const id of ['evt-open', 'evt-deny', 'evt-alert', 'evt-none', 'evt-open-alert', 'evt-legacy']) t.equal(await row(id).locator('.decision-line').count(), 1, `a badge on ${id}`);
    t.same(await badge('evt-open'), { action: 'open', text: '✔ Open', alert: false, list: 'Staff', label: 'Alice', direction: '→ in' });
    t.same(await badge('evt-deny'), { action: 'deny', text: '✘ Denied', alert: false, list: 'Banned', label: 'Fly-tipper', direction: '← out' });
    t.same(await badge('evt-alert'), { action: 'alert', text: '⚠ Alert', alert: false, list: 'Stolen cars', label: 'Reported 12 May', direction: null });
    t.same(await badge('evt-none'), { action: 'none', text: '—', alert: false, list: null, label: null, direction: null });
    t.same(await badge('evt-open-alert'), { action: 'open', text: '✔ Open', alert: true, list: 'Staff', label: 'Bob', direction: '→ in' }, 'opened and alerted: both said');
    const legacy = await badge('evt-legacy');
    t.equal(legacy.text, '—');
    t.equal(legacy.action, '', 'no decision recorded is told apart from "no list matched"');
    t.match(await row('evt-legacy').locator('[data-testid=decision]').getAttribute('title'), /No decision recorded/);
  });

  await t.test('search: the filter by action, and alerts only, go to the API and to the export', async (t) => {
    await page.selectOption('#f-action', 'deny');
    await page.click('form.filters button[type=submit]');
    await page.waitForFunction(() => location.hash.includes('action=deny'));
    await page.waitForSelector('[data-testid=result-count]:has-text("1 event")');
    t.same(await page.$$eval('[data-testid=results] tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-event-id'))), ['evt-deny']);
    t.equal(await page.inputValue('#f-action'), 'deny', 'the filter stays chosen (state in the URL)');
    const exported = page.waitForRequest((r) => r.url().includes('/events/export'));
    await page.click('button:has-text("Export CSV")');
    const url = new URL((await exported).url());
    t.equal(url.searchParams.get('action'), 'deny', 'the export takes the same filter');

    await page.selectOption('#f-action', '');
    await page.check('#f-alert');
    await page.click('form.filters button[type=submit]');
    await page.waitForFunction(() => location.hash.includes('alert=true') && !location.hash.includes('action='));
    await page.waitForSelector('[data-testid=result-count]:has-text("2 events")');
    t.same((await page.$$eval('[data-testid=results] tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-event-id')))).sort(), ['evt-alert', 'evt-open-alert'], 'watch-list alerts, also the one that opened');
    t.ok(await page.isChecked('#f-alert'));

    await page.uncheck('#f-alert');
    await page.selectOption('#f-action', 'none');
    await page.click('form.filters button[type=submit]');
    await page.waitForFunction(() => location.hash.includes('action=none'));
    await page.waitForSelector('[data-testid=result-count]:has-text("1 event")');
    t.same(await page.$$eval('[data-testid=results] tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-event-id'))), ['evt-none'], '"none" is a decision that no list acted on, not a missing one');
  });

  await t.test('the event page shows the whole decision', async (t) => {
    await go('#/events/evt-deny');
    await page.waitForSelector('[data-testid=decision-facts]');
    const facts = Object.fromEntries(await page.$$eval('[data-testid=decision-facts] dd', (dds) => dds.map((dd) => [dd.getAttribute('data-field'), dd.textContent])));
    t.same(facts, {
      action: '✘ Denied',
      reason: 'on deny list Banned (confusable match)',
      list: 'Banned (deny)',
      entry_label: 'Fly-tipper',
      matched_plate: 'BAD666',
      distance: '0.5',
      direction: '← out',
      alert: 'no',
      latency_ms: '812 ms',
    });
    t.equal(await page.getAttribute('[data-field=list] a', 'href'), '#/lists/lst-banned', 'the list links to its page');
    await go('#/events/evt-legacy');
    await page.waitForSelector('[data-testid=event-plate]:has-text("OLD1")');
    t.match(await page.textContent('[data-testid=decision-facts]'), /No decision recorded/);
  });

  await t.test('live: a watch-list alert raises a banner that stays until dismissed', async (t) => {
    await go('#/live');
    await page.waitForSelector('[data-testid=live-status]:has-text("Live")');
    t.equal(await page.locator('[data-testid=alert-banner]').count(), 0, 'events from before the page raise none');
    await ingest(c, 'evt-live-hot', { plate_text: 'HOT999', camera_id: side.id, timestamp: new Date().toISOString(), decision: decision('alert', { list: STOLEN, entry_label: 'Reported today', matched_plate: 'HOT999', distance: 0 }) });
    const first = page.locator('[data-testid=alert-banner][data-event-id="evt-live-hot"]');
    await first.waitFor();
    t.equal(await first.getAttribute('role'), 'alert', 'announced to screen readers');
    t.equal(await first.locator('[data-testid=alert-plate]').textContent(), 'HOT999');
    t.equal(await first.locator('[data-testid=alert-list]').textContent(), 'Stolen cars');
    t.equal(await first.locator('[data-testid=alert-label]').textContent(), 'Reported today');
    t.equal(await first.locator('[data-testid=alert-camera]').textContent(), 'Side door', 'the camera by name');
    t.ok(await first.locator('time').getAttribute('datetime'), 'the time');
    t.match(await first.locator('[data-testid=alert-dismiss]').getAttribute('aria-label'), /HOT999/, 'the dismiss button says what it dismisses');
    await page.locator('.live-card[data-event-id="evt-live-hot"] [data-testid=decision][data-action=alert]').waitFor();
    t.pass('the card carries the badge too');

    // An ordinary read adds a card and no banner; a second alert stacks on top.
    await ingest(c, 'evt-live-ok', { plate_text: 'STAFF1', camera_id: gate.id, timestamp: new Date().toISOString(), decision: decision('open', { list: STAFF, entry_label: 'Alice', direction: 'in' }) });
    await page.locator('.live-card[data-event-id="evt-live-ok"]').waitFor();
    await ingest(c, 'evt-live-hot2', { plate_text: 'TWICE2', camera_id: gate.id, timestamp: new Date().toISOString(), decision: decision('open', { list: STAFF, entry_label: 'Bob', alert: true }) });
    await page.locator('[data-testid=alert-banner][data-event-id="evt-live-hot2"]').waitFor();
    t.same(await page.$$eval('[data-testid=alert-banner]', (bs) => bs.map((b) => b.getAttribute('data-event-id'))), ['evt-live-hot2', 'evt-live-hot'], 'two banners, newest first; none for the plain open');
    t.match(await page.textContent('[data-testid=alert-dismiss-all]'), /Dismiss all 2/);

    // Only the cards follow the camera choice: an alert from another camera still gets its banner.
    await page.selectOption('.head-tools select', gate.id);
    await ingest(c, 'evt-live-hot3', { plate_text: 'SIDE42', camera_id: side.id, timestamp: new Date().toISOString(), decision: decision('alert', { list: STOLEN }) });
    await page.locator('[data-testid=alert-banner][data-event-id="evt-live-hot3"]').waitFor();
    t.equal(await page.locator('.live-card[data-event-id="evt-live-hot3"]').count(), 0, 'no card: its camera is not the one chosen');

    // Not on a timer, and not when the page changes: only a dismissal ends a banner.
    await go('#/stats');
    await page.waitForSelector('[data-testid=alerts]', { state: 'detached' });
    await go('#/live');
    await page.waitForSelector('[data-testid=live-status]:has-text("Live")');
    t.same(await page.$$eval('[data-testid=alert-banner]', (bs) => bs.map((b) => b.getAttribute('data-event-id'))), ['evt-live-hot3', 'evt-live-hot2', 'evt-live-hot'], 'still there after leaving and coming back');
    await page.click('[data-testid=alert-banner][data-event-id="evt-live-hot2"] [data-testid=alert-dismiss]');
    t.same(await page.$$eval('[data-testid=alert-banner]', (bs) => bs.map((b) => b.getAttribute('data-event-id'))), ['evt-live-hot3', 'evt-live-hot'], 'the one dismissed is gone, the others stay');
    await page.click('[data-testid=alert-dismiss-all]');
    t.equal(await page.locator('[data-testid=alert-banner]').count(), 0, 'dismiss all');
    t.notOk(await page.isVisible('[data-testid=alerts]'), 'the empty stack takes no space');
  });

  t.same(errors, [], 'no script errors');
});
