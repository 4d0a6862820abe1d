/**
 * Item 8 of the hardening issue: deeply nested JSON is a 400 naming the field, never a stack
 * overflow (500); a value already stored too deep is still listed, clamped, for every reader.
 */
import t from 'tap';
import { ONLY_SQLITE, startTestCloud, event } from './helpers.js';
import { MAX_JSON_DEPTH, TRUNCATED, clampDepth, jsonTooDeep } from '../../shared/schemas/json-bounds.js';

const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
/** A value `depth` levels deep, built without recursion. */
const deepValue = (depth: number) => JSON.parse(nested(depth)) as unknown[];

const fieldsOf = async (r: Response) => ((await r.json()).errors ?? []).map((e: { field: string }) => e.field);

t.test('deep JSON bodies: 400 naming the field, for JSON and multipart ingest and the config kinds', async (t) => {
  const c = await startTestCloud(t);
  const send = (path: string, body: string, method = 'POST', key?: string) =>
    c.req(path, { method, ...(key ? { key } : { token: c.adminToken }), headers: { 'content-type': 'application/json' }, body });

  const ev = await send('/events/ingest', `{"event_id":"e1","plate_text":"AB1","metadata":{"a":${nested(12_000)}}}`, 'POST', c.apiKey);
  t.equal(ev.status, 400, 'event metadata 12,000 arrays deep');
  t.same(await fieldsOf(ev), ['metadata']);

  const fd = new FormData();
  fd.set('event', `{"event_id":"e2","plate_text":"AB1","metadata":{"a":${nested(12_000)}}}`);
  const mp = await c.req('/events/ingest', { method: 'POST', key: c.apiKey, body: fd });
  t.equal(mp.status, 400, 'the same as a multipart event');
  t.same(await fieldsOf(mp), ['metadata']);

  const sensor = await send('/config/sensors', `{"name":"s","type":"loop","config":{"a":${nested(10_000)}}}`);
  t.equal(sensor.status, 400, 'sensor config 10,000 deep');
  t.same(await fieldsOf(sensor), ['config']);

  const cam = await send('/config/cameras', `{"name":"c","rtsp_url":"rtsp://127.0.0.1:9/s","metadata":{"a":${nested(10_000)}}}`);
  t.equal(cam.status, 400, 'camera metadata 10,000 deep');
  t.same(await fieldsOf(cam), ['metadata']);

  // Under the body's bound but over the schema's: the field is named down to its key.
  const d = MAX_JSON_DEPTH + 1;
  const over = await send('/config/models', JSON.stringify({ name: 'm', type: 'ocr', weights_path: 'w.onnx', parameters: { extra: deepValue(d) } }));
  t.equal(over.status, 400, `model parameters ${d} deep`);
  t.same(await fieldsOf(over), ['parameters.extra']);
  const exp = await send('/config/exporters', JSON.stringify({ name: 'e', type: 'webhook', url: 'http://127.0.0.1:9/h', config: { x: deepValue(d) } }));
  t.same(await fieldsOf(exp), ['config.x'], 'exporter config');
  const zone = await send('/config/zones', JSON.stringify({ name: 'z', camera_id: 'cam-001', geometry: { type: 'polygon', points: [{ x: 0, y: 0 }, { x: 9, y: 0 }, { x: 0, y: 9 }] }, metadata: { m: deepValue(d) } }));
  t.same(await fieldsOf(zone), ['metadata.m'], 'zone metadata');
  // Any other JSON route: the body-level bound.
  const user = await send('/users', `{"username":${nested(5000)},"password":"longenough","role":"viewer"}`);
  t.equal(user.status, 400);
  t.same(await fieldsOf(user), ['username']);

  const ok = await send('/events/ingest', JSON.stringify(event('e-ok', { metadata: { a: deepValue(MAX_JSON_DEPTH - 1) } })), 'POST', c.apiKey);
  t.equal(ok.status, 202, `metadata ${MAX_JSON_DEPTH} levels deep (with its own object) is accepted`);
  for (const kind of ['sensors', 'cameras', 'models', 'exporters', 'zones']) {
    t.equal((await (await c.req(`/config/${kind}`, { token: c.adminToken })).json()).total, 0, `no ${kind} stored`);
  }
});

t.test('a value stored too deep (before the bounds) is listed, clamped, for viewers, admins and edges', { skip: ONLY_SQLITE }, async (t) => {
  const c = await startTestCloud(t);
  const viewer = await c.addUser('viewer1', 'viewer-password', 'viewer');
  // Rows as an older version could have written them (JSON text built without JSON.stringify,
  // which itself overflows on such values).
  const now = new Date().toISOString();
  // The camera on the test key's edge (edge-001), so that edge's key lists it too.
  const store = (kind: string, id: string, json: string, edgeId: string | null = null) =>
    c.ctx.database.sqlite!.db
      .prepare('INSERT INTO config_items (kind, id, body, enabled, camera_id, type, edge_id, created_at, updated_at) VALUES (?, ?, ?, NULL, NULL, NULL, ?, ?, ?)')
      .run(kind, id, `{"id":"${id}",${json},"created_at":"${now}","updated_at":"${now}"}`, edgeId, now, now);
  const cam = { id: 'cam-900' };
  store('cameras', cam.id, `"name":"deep","rtsp_url":"rtsp://u:p@127.0.0.1:9/s","enabled":true,"edge_id":"edge-001","metadata":{"a":${nested(2700)}}`, 'edge-001');
  store('sensors', 'sensor-900', `"name":"s","type":"loop","config":{"a":${nested(20_000)}}`);
  for (const [who, auth] of [
    ['viewer', { token: viewer }],
    ['admin', { token: c.adminToken }],
    ['edge', { key: c.apiKey }],
  ] as const) {
    const list = await c.req('/config/cameras', auth);
    t.equal(list.status, 200, `${who}: GET /config/cameras`);
    const body = await list.json();
    t.equal(body.items[0].id, cam.id);
    t.equal(jsonTooDeep(body.items[0].metadata, MAX_JSON_DEPTH), null, `${who}: served at most ${MAX_JSON_DEPTH} deep`);
    t.match(JSON.stringify(body.items[0].metadata), TRUNCATED, `${who}: marked truncated`);
    t.equal((await c.req(`/config/cameras/${cam.id}`, auth)).status, 200, `${who}: GET one`);
    const sensors = await c.req('/config/sensors', auth);
    t.equal(sensors.status, 200, `${who}: GET /config/sensors (20,000 deep)`);
    // Its zone cannot be read in SQL: it is listed for people, and for no edge rather than for all.
    t.equal((await sensors.json()).total, who === 'edge' ? 0 : 1, `${who}: the deep sensor listed or not`);
  }
  // An event stored deep (a row written before the bounds) reads too.
  const row = {
    event_id: 'evt-deep', ts: Date.now(), camera_id: null, zone_id: null, plate_text: 'AB1', confidence: null, processing_ms: null,
    body: `{"raw_candidates":[],"vehicle_info":null,"tpms_status":null,"metadata":{"a":${nested(12_000)}}}`,
    frame_path: null, crop_path: null, created_at: Date.now(),
  };
  t.equal(await c.ctx.events.insert(row), 'inserted');
  const evs = await c.req('/events', { token: c.adminToken });
  t.equal(evs.status, 200, 'GET /events');
  t.equal((await c.req('/events/evt-deep', { token: c.adminToken })).status, 200, 'GET /events/:id');
  const exp = await c.req('/events/export?format=json', { token: c.adminToken });
  t.ok(exp.status < 500, `GET /events/export: ${exp.status}`);
  await exp.text();
  const fix = await c.req('/events/evt-deep', { method: 'PATCH', token: c.adminToken, json: { plate_text: 'XYZ789' } });
  t.equal(fix.status, 200, `PATCH /events/:id corrects it (${fix.status})`);
  t.equal((await c.req('/events/evt-deep', { token: c.adminToken })).status, 200, 'and it still reads');
  // A PUT that fixes the value is taken; one that keeps it too deep is a 400.
  t.equal((await c.req(`/config/cameras/${cam.id}`, { method: 'PUT', token: c.adminToken, json: { name: 'renamed' } })).status, 400, 'still too deep: 400');
  const fixed = await c.req(`/config/cameras/${cam.id}`, { method: 'PUT', token: c.adminToken, json: { metadata: { a: 'shallow' } } });
  t.equal(fixed.status, 200, 'replacing the deep value');
});

t.test('the bounds never recurse: 200,000 levels are measured and clamped', async (t) => {
  const v = deepValue(200_000);
  t.same(jsonTooDeep(v, 32)?.length, 32);
  const clamped = clampDepth({ k: v }, 4) as { k: unknown[] };
  t.same(clamped, { k: [[[TRUNCATED]]] });
  t.equal(jsonTooDeep({ a: [{ b: 1 }] }, 3), null);
  const proto = clampDepth(JSON.parse('{"__proto__":{"x":[[[[1]]]]}}'), 2) as Record<string, unknown>;
  t.ok(Object.hasOwn(proto, '__proto__'), 'a "__proto__" key stays a plain key');
  t.equal(Object.getPrototypeOf(proto), Object.prototype);
});
