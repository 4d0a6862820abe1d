/**
 * At phone width (390 px, an iPhone 12-15) every item of the back office's top bar is in sight
 * and takes a tap without scrolling anything: its centre is inside the viewport, nothing covers
 * it (elementFromPoint finds the link itself), and tapping it opens its page.
 */
import t from 'tap';
import { chromiumSkip, openPage, signIn } from '../../fixtures/browser.js';
import { startTestCloud, ADMIN_PASSWORD } from '../helpers.js';

const skip = chromiumSkip;

t.test('every nav item is reachable at 390 px', { skip }, async (t) => {
  const c = await startTestCloud(t);
  const page = await openPage(t, { width: 390, height: 844 });
  await signIn(page, `${c.url}/#/live`, 'admin', ADMIN_PASSWORD, 'nav.mainnav a');

  const items = await page.$$eval('nav.mainnav a', (as) => as.map((a) => ({ href: a.getAttribute('href')!, label: a.textContent! })));
  t.same(items.map((i) => i.label), ['Live', 'Search', 'Stats', 'Edges', 'Lists', 'Config', 'Recognize'], 'the admin sees every page');
  for (const { href, label } of items) {
    const seen = await page.$eval(`nav.mainnav a[href="${href}"]`, (a) => {
      const r = a.getBoundingClientRect();
      const x = r.left + r.width / 2;
      const y = r.top + r.height / 2;
      const hit = document.elementFromPoint(x, y);
      return { inside: r.left >= 0 && r.right <= window.innerWidth && r.top >= 0 && r.bottom <= window.innerHeight, hit: hit === a || a.contains(hit) };
    });
    t.ok(seen.inside, `${label}: inside the 390 px viewport`);
    t.ok(seen.hit, `${label}: nothing covers it, nothing to scroll`);
  }
  t.equal(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), true, 'the page does not scroll sideways');
  for (const { href, label } of items.slice().reverse()) {
    // A tap at the link's centre as it is laid out now (no scrolling into view first).
    const box = (await (await page.$(`nav.mainnav a[href="${href}"]`))!.boundingBox())!;
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await page.waitForFunction((h) => location.hash.startsWith(h), href);
    t.pass(`${label}: opens ${href}`);
  }
});
