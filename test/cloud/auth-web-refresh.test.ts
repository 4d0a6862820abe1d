/**
 * The web app keeps its sign-in when a refresh is throttled (429), ends it on 401, and acts
 * on the live stream's 4401 close (credentials ended) instead of reconnecting forever.
 */
import t from 'tap';
import { chromiumSkip, openPage, signIn } from '../fixtures/browser.js';
import { startTestCloud, ADMIN_PASSWORD } from './helpers.js';

const skip = chromiumSkip;

t.test('a throttled refresh does not sign the user out', { skip }, async (t) => {
  const c = await startTestCloud(t);
  const page = await openPage(t);
  await signIn(page, `${c.url}/#/live`, 'admin', ADMIN_PASSWORD, '[data-testid=role]');

  // A reload holds no access token: the app must refresh. The first refresh is throttled.
  const answers: number[] = [];
  await page.route('**/auth/refresh', async (route) => {
    if (answers.length === 0) {
      answers.push(429);
      await route.fulfill({ status: 429, headers: { 'retry-after': '1', 'content-type': 'application/json' }, body: JSON.stringify({ detail: 'Rate limit exceeded', error_code: 'RATE_LIMIT_EXCEEDED' }) });
    } else {
      answers.push(0);
      await route.continue();
    }
  });
  await page.reload();
  const shown = await Promise.race([
    page.waitForSelector('[data-testid=role]').then(() => 'signed in'),
    page.waitForSelector('#login-user').then(() => 'signed out'),
  ]);
  t.equal(shown, 'signed in', 'still signed in after the throttled refresh');
  t.same(answers, [429, 0], 'retried after Retry-After');
  t.equal(await page.textContent('[data-testid=role]'), 'admin');

  // A refused refresh (the sign-in is over) does sign out.
  await page.unroute('**/auth/refresh');
  await c.req('/users/admin', { method: 'PATCH', token: c.adminToken, json: { password: 'a-new-password' } });
  await page.reload();
  await page.waitForSelector('#login-user');
  t.pass('a 401 refresh shows the sign-in form');
});

t.test('the live view signs out when its stream closes with 4401 and the sign-in is over', { skip }, async (t) => {
  const c = await startTestCloud(t);
  const page = await openPage(t);
  await signIn(page, `${c.url}/#/live`, 'admin', ADMIN_PASSWORD, '.pill-ok:has-text("Live")');
  t.equal(c.ctx.hub.count(), 1, 'the live view holds a stream');

  // An admin elsewhere resets this user's password: the stream closes (4401), the session is over.
  t.equal((await c.req('/users/admin', { method: 'PATCH', token: c.adminToken, json: { password: 'a-new-password' } })).status, 200);
  await page.waitForSelector('#login-user', { timeout: 30_000 });
  t.pass('the sign-in form is shown');
  t.equal(c.ctx.hub.count(), 0, 'no stream left open');
});
