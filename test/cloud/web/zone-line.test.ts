/**
 * A gate line drawn in the zone form (headless Chromium, real cloud): the installer picks
 * "Gate line", clicks where the lane starts and ends, chooses the "in" side, and the cloud stores
 * `{type: "line"}` with `in_side`, which the edge turns into the direction of each pass
 * (edge/decide/direction.ts). Editing keeps the line; switching back to an area keeps the points.
 */
import t from 'tap';
import { chromiumSkip, openPage, signIn } from '../../fixtures/browser.js';
import { startTestCloud, ADMIN_PASSWORD } from '../helpers.js';

t.test('zone form: a gate line with its in side is drawn, saved, shown and edited', { skip: chromiumSkip }, async (t) => {
  const c = await startTestCloud(t);
  // No stream behind it: the editor draws on the grid of the camera's resolution.
  const cam = await c.ctx.config.create('cameras', { name: 'Gate lane', rtsp_url: 'rtsp://127.0.0.1:9/none', enabled: true, zone_id: null, fps: 5, resolution: { width: 640, height: 360 }, detection_model: null, ocr_models: [], metadata: {} });
  const page = await openPage(t);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await signIn(page, `${c.url}/#/config/zones/new`, 'admin', ADMIN_PASSWORD, '#fld-name');

  await page.fill('#fld-name', 'Lane line');
  await page.selectOption('#fld-camera_id', cam.id);
  await page.selectOption('#fld-type', 'enter');
  await page.waitForSelector('[data-testid=zone-status][data-loaded]', { timeout: 30_000 });
  await page.selectOption('[data-testid=zone-shape]', 'line');
  const svg = page.locator('[data-testid=zone-svg]');
  await svg.evaluate((el) => el.scrollIntoView({ block: 'start' }));
  const box = (await svg.boundingBox())!;
  const clicks = [
    [0.1, 0.6],
    [0.9, 0.55],
    [0.5, 0.2],
  ];
  for (const [fx, fy] of clicks) await page.mouse.click(box.x + box.width * fx!, box.y + box.height * fy!);
  await page.waitForSelector('[data-testid=zone-count]:has-text("2 points")');
  t.equal(await page.locator('circle.handle').count(), 2, 'a third click adds nothing to a line');
  await page.selectOption('#fld-in_side', 'right');
  await page.click('[data-testid=save]');
  await page.waitForSelector('[data-testid=zones-table]');

  const stored = ((await (await c.req('/config/zones', { token: c.adminToken })).json()) as { items: Array<Record<string, any>> }).items.find((z) => z.name === 'Lane line');
  t.ok(stored, 'saved');
  t.equal(stored!.geometry.type, 'line');
  t.equal(stored!.in_side, 'right');
  t.equal(stored!.geometry.points.length, 2);
  clicks.slice(0, 2).forEach(([fx, fy], i) => {
    const p = stored!.geometry.points[i];
    t.ok(Math.abs(p.x - fx! * 640) <= 1 && Math.abs(p.y - fy! * 360) <= 1, `point ${i} (${p.x},${p.y}) where it was clicked`);
  });
  t.match(await page.locator(`[data-testid=zones-table] tr[data-id="${stored!.id}"]`).textContent(), /gate line/);

  await page.evaluate((id) => (location.hash = `#/config/zones/${id}`), stored!.id);
  await page.waitForSelector('[data-testid=zone-shape]');
  t.equal(await page.locator('[data-testid=zone-shape]').inputValue(), 'line', 'the form opens on the line');
  t.equal(await page.locator('#fld-in_side').inputValue(), 'right');
  await page.selectOption('#fld-in_side', 'left');
  await page.click('[data-testid=save]');
  await page.waitForSelector('[data-testid=zones-table]');
  const edited = (await (await c.req(`/config/zones/${stored!.id}`, { token: c.adminToken })).json()) as Record<string, any>;
  t.equal(edited.in_side, 'left');
  t.same(edited.geometry, stored!.geometry, 'the line is kept');
  t.same(errors, [], 'no page errors');
});
