import t from 'tap';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { TEST_DATABASE, startTestCloud, makeJpeg, event, ADMIN_PASSWORD } from './helpers.js';

t.test('health: public summary, detailed with metrics for signed-in users, 503 when storage fails', async (t) => {
  const c = await startTestCloud(t);
  const h = await c.req('/healthz');
  t.equal(h.status, 200);
  const hb = await h.json();
  t.match(hb, { status: 'healthy', version: '0.1.0', components: { database: { status: 'healthy' }, storage: { status: 'healthy' } } });
  t.type(hb.uptime_seconds, 'number');
  t.equal((await c.req('/healthz/detailed')).status, 401);
  await c.req('/events/ingest', { method: 'POST', key: c.apiKey, json: event('e1', { timestamp: new Date().toISOString() }) });
  const d = await (await c.req('/healthz/detailed', { token: c.adminToken })).json();
  t.match(d.components.database.details, TEST_DATABASE === 'postgres' ? { engine: 'postgresql', url: /^postgres:\/\/\*\*\*:\*\*\*@127\.0\.0\.1:\d+\// } : { engine: 'sqlite', journal_mode: 'wal' });
  t.ok(d.components.storage.details.free_bytes > 0);
  t.equal(d.metrics.events_total, 1);
  t.equal(d.metrics.avg_processing_time_ms, 245);
  t.equal(d.metrics.events_per_minute, 0.2, 'one event over the last five minutes');
  // Break the image store: its directory replaced by a file.
  rmSync(c.ctx.images.location, { recursive: true });
  writeFileSync(c.ctx.images.location, 'not a directory');
  const bad = await c.req('/healthz');
  t.equal(bad.status, 503);
  const bb = await bad.json();
  t.equal(bb.status, 'unhealthy');
  t.equal(bb.components.storage.status, 'unhealthy');
  t.type(bb.components.storage.error, 'string');
});

t.test('a restart keeps events, images, config, users, keys and tokens', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'anpr-restart-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const jpeg = makeJpeg();
  let key: string;
  let token: string;
  {
    const c = await startTestCloud(t, {}, dir);
    key = c.apiKey;
    token = c.adminToken;
    const fd = new FormData();
    fd.set('event', JSON.stringify(event('evt-keep')));
    fd.set('frame', new Blob([new Uint8Array(jpeg)]), 'f.jpg');
    t.equal((await c.req('/events/ingest', { method: 'POST', key, body: fd })).status, 202);
    t.equal((await c.req('/config/cameras', { method: 'POST', token, json: { name: 'C', rtsp_url: 'rtsp://127.0.0.1/s' } })).status, 201);
    await c.close();
  }
  const c2 = await startTestCloud(t, { env: {} }, dir);
  t.equal(await c2.ctx.users.count(), 1, 'no second admin created');
  t.equal((await c2.req('/events/ingest', { method: 'POST', key, json: event('evt-2') })).status, 202, 'old API key works');
  const ev = await c2.req('/events/evt-keep', { token });
  t.equal(ev.status, 200, 'old token still valid (same secret)');
  t.same(Buffer.from(await (await c2.req('/events/evt-keep/frame', { token })).arrayBuffer()), jpeg);
  t.equal((await (await c2.req('/config/cameras/cam-001', { token })).json()).name, 'C');
  t.equal((await (await c2.req('/events/stats', { token })).json()).total_events, 2);
  t.ok(await c2.token('admin', ADMIN_PASSWORD));
});

t.test('rate limits: headers on every limited response, 429 with the contract body past the limit', async (t) => {
  const c = await startTestCloud(t, { rateLimits: { events: 5, config: 3 } });
  // Windows are whole minutes of the clock: a burst that straddles a boundary (seen in the reset
  // header) starts again with a fresh key and user instead of failing on a slow machine.
  for (let attempt = 1; ; attempt++) {
    const key = (await c.ctx.apiKeys.create(`edge-${attempt}`)).key;
    const before = await c.ctx.events.countAll();
    const sentAt = Date.now();
    const rs: Response[] = [];
    for (let i = 0; i < 5; i++) rs.push(await c.req('/events/ingest', { method: 'POST', key, json: event(`a${attempt}-e${i}`, { metadata: {} }) }));
    const over = await c.req('/events/ingest', { method: 'POST', key, json: event(`a${attempt}-e5`, { metadata: {} }) });
    const resets = new Set([...rs, over].map((r) => r.headers.get('x-ratelimit-reset')).filter((v) => v !== null));
    if (resets.size > 1 && attempt < 3) {
      t.comment(`attempt ${attempt} straddled a window boundary; again`);
      continue;
    }
    rs.forEach((r, i) => {
      t.equal(r.status, 202);
      t.equal(r.headers.get('x-ratelimit-limit'), '5');
      t.equal(r.headers.get('x-ratelimit-remaining'), String(4 - i));
      t.ok(Number(r.headers.get('x-ratelimit-reset')) * 1000 > sentAt, 'the window resets after the request');
    });
    t.equal(over.status, 429);
    const b = await over.json();
    t.match(b, { detail: 'Rate limit exceeded', error_code: 'RATE_LIMIT_EXCEEDED', limit: 5, window_seconds: 60 });
    t.ok(b.retry_after_seconds >= 1 && b.retry_after_seconds <= 60);
    t.equal(over.headers.get('retry-after'), String(b.retry_after_seconds));
    t.equal(await c.ctx.events.countAll() - before, 5, 'the refused event was not stored');
    break;
  }
  const other = (await c.ctx.apiKeys.create('edge-other')).key;
  t.equal((await c.req('/events/ingest', { method: 'POST', key: other, json: event('e7', { metadata: {} }) })).status, 202, 'limits are per edge');
  for (let attempt = 1; ; attempt++) {
    const token = await c.addUser(`cfg-${attempt}`, 'config-pass-1', 'admin');
    const rs: Response[] = [];
    for (let i = 0; i < 4; i++) rs.push(await c.req('/config/cameras', { token }));
    if (new Set(rs.map((r) => r.headers.get('x-ratelimit-reset'))).size > 1 && attempt < 3) continue;
    t.same(rs.map((r) => r.status), [200, 200, 200, 429], 'config: 3 per user, then 429');
    break;
  }
  const h = await c.req('/healthz');
  t.equal(h.status, 200, 'health is unlimited');
  t.equal(h.headers.get('x-ratelimit-limit'), null);
});

t.test('rate limits can be set from the environment; a bad value stops the start', async (t) => {
  const c = await startTestCloud(t, { env: { ANPR_ADMIN_PASSWORD: ADMIN_PASSWORD, ANPR_RATE_LIMIT_EVENTS: '3000' }, rateLimits: { events: undefined } });
  const r = await c.req('/events/ingest', { method: 'POST', key: c.apiKey, json: event('e1') });
  t.equal(r.headers.get('x-ratelimit-limit'), '3000');
  // A refused start opens nothing: no data dir, no database, no writer thread left running.
  const dir = join(mkdtempSync(join(tmpdir(), 'anpr-refused-')), 'data');
  t.teardown(() => rmSync(dirname(dir), { recursive: true, force: true }));
  await t.rejects(startTestCloud(t, { env: { ANPR_RATE_LIMIT_CONFIG: 'lots' } }, dir), { code: 'CONFIG_INVALID' });
  t.notOk(existsSync(dir), 'the refused start created nothing');
});

t.test('docs: OpenAPI generated from the schemas covers every route; Swagger UI served locally', async (t) => {
  const c = await startTestCloud(t);
  const doc = await (await c.req('/openapi.json')).json();
  const paths = Object.keys(doc.paths);
  for (const p of ['/auth/token', '/events/ingest', '/events', '/events/{id}', '/events/stats', '/events/stream', '/healthz', '/healthz/detailed', '/config/cameras/{id}/test', '/config/exporters/{id}/test']) {
    t.ok(paths.includes(p), p);
  }
  for (const k of ['cameras', 'zones', 'models', 'sensors', 'exporters']) {
    t.ok(doc.paths[`/config/${k}`].get && doc.paths[`/config/${k}`].post, `${k} list/create`);
    t.ok(doc.paths[`/config/${k}/{id}`].put && doc.paths[`/config/${k}/{id}`].delete, `${k} update/delete`);
  }
  // Every write may answer a retryable 503 (database busy past busy_timeout, disk full); reads do not.
  for (const [method, path] of [['post', '/events/ingest'], ['patch', '/events/{id}'], ['put', '/config/cameras/{id}'], ['delete', '/config/zones/{id}']] as const) {
    t.ok(doc.paths[path][method].responses['503'], `${method.toUpperCase()} ${path} documents 503`);
  }
  t.notOk(doc.paths['/events'].get.responses['503'], 'GET /events does not');
  t.ok(doc.components.schemas.EventIngest.properties.event_id, 'event schema in the document');
  t.ok(doc.components.schemas.CameraCreate.properties.rtsp_url.description);
  const html = await (await c.req('/docs')).text();
  t.match(html, /swagger-ui-bundle\.js/);
  t.notMatch(html, /https?:\/\//, 'no external URL in the page');
  const js = await c.req('/docs/assets/swagger-ui-bundle.js');
  t.equal(js.status, 200);
  t.match(js.headers.get('cache-control'), /max-age/);
  t.equal((await c.req('/docs/assets/..%2fpackage.json')).status, 404);
});

t.test('unknown routes answer the contract error body', async (t) => {
  const c = await startTestCloud(t);
  const r = await c.req('/nope');
  t.equal(r.status, 404);
  const b = await r.json();
  t.same(Object.keys(b).sort(), ['detail', 'error_code', 'request_id', 'timestamp']);
  t.equal(r.headers.get('x-request-id'), b.request_id);
});
