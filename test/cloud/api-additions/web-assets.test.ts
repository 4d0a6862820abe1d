import t from 'tap';
import { startTestCloud } from '../helpers.js';

t.test('the web app is served by the cloud: index no-cache with a strict CSP, hashed assets immutable, nothing external', async (t) => {
  const c = await startTestCloud(t);
  const r = await c.req('/');
  t.equal(r.status, 200);
  t.match(r.headers.get('content-type'), /^text\/html/);
  t.equal(r.headers.get('cache-control'), 'no-cache');
  const csp = r.headers.get('content-security-policy') ?? '';
  t.match(csp, /default-src 'self'/);
  t.match(csp, /script-src 'self'/);
  t.notMatch(csp, /unsafe-inline|unsafe-eval|https?:/, 'no inline code and no other origin allowed');
  const html = await r.text();
  const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
  const assets = refs.filter((u) => u.startsWith('/assets/'));
  t.equal(assets.length, 2, 'one script and one stylesheet');
  t.same(refs.filter((u) => !u.startsWith('/assets/') && u !== 'data:,'), [], 'no other URL in the page');
  for (const a of assets) {
    t.match(a, /^\/assets\/app-[A-Z0-9]{8}\.(js|css)$/, 'content-hashed name');
    const ar = await c.req(a);
    t.equal(ar.status, 200);
    t.equal(ar.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    t.match(ar.headers.get('content-type'), a.endsWith('.js') ? /^text\/javascript/ : /^text\/css/);
    const body = await ar.text();
    t.ok(body.length > 1000, `${a} has content`);
    t.notMatch(body, /@import|url\(\s*["']?https?:|fonts\.googleapis|cdn\./i, `${a} loads nothing from outside`);
  }
  t.equal((await c.req('/assets/app-NOPE0000.js')).status, 404);
  t.equal((await c.req('/assets/..%2fpackage.json')).status, 404);
  const nf = await c.req('/assets/index.html');
  t.equal(nf.status, 404);
  t.match(await nf.json(), { error_code: 'RESOURCE_NOT_FOUND' });
});
