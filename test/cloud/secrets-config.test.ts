/** Config secrets: non-admins never read credentials; a mask written back never replaces one. */
import t from 'tap';
import { startTestCloud } from './helpers.js';

const SECRETS = ['Pa@ss', 'ss@127', 'Pa%40ss', 'cam-user', 'q-secret', 'exp-user', 'exp-pw', 'tok-123', 'hdr-secret', 'bearer-hdr', 'mqtt-pw', 'broker-pw', 'nested-key', 'onvif-pw'];

const camera = {
  id: 'cam-001',
  name: 'Gate',
  rtsp_url: 'rtsp://cam-user:Pa@ss@127.0.0.1:8554/stream1?password=q-secret&channel=1',
  metadata: { onvif: { user: 'onvif-admin', password: 'onvif-pw' } },
};
const rest = {
  name: 'REST',
  type: 'rest',
  url: 'http://exp-user:exp-pw@127.0.0.1:9/ingest?token=tok-123&site=north',
  headers: { 'Content-Type': 'application/json', 'X-Custom-Auth': 'hdr-secret', Authorization: 'Bearer bearer-hdr' },
  auth: { type: 'bearer', token: 'tok-123' },
};
const mqtt = { name: 'MQTT', type: 'mqtt', url: 'mqtt://broker:broker-pw@127.0.0.1:1883', config: { topic: 'anpr/events', username: 'm', password: 'mqtt-pw' } };
const sensor = { name: 'Relay', type: 'relay', config: { cloud: { api_key: 'nested-key' }, pin: 4 } };

t.test('viewers and operators never read a credential; admins and edges read them all', async (t) => {
  const c = await startTestCloud(t);
  for (const [path, body] of [['/config/cameras', camera], ['/config/exporters', rest], ['/config/exporters', mqtt], ['/config/sensors', sensor]] as const) {
    const r = await c.req(path, { method: 'POST', token: c.adminToken, json: body });
    t.equal(r.status, 201, `${path} created`);
  }
  const viewer = await c.addUser('viewer1', 'viewer-password', 'viewer');
  const operator = await c.addUser('operator1', 'operator-password', 'operator');
  const paths = ['/config/cameras', '/config/cameras/cam-001', '/config/exporters', '/config/exporters/exporter-001', '/config/exporters/exporter-002', '/config/sensors'];
  for (const [who, token] of [['viewer', viewer], ['operator', operator]] as const) {
    for (const p of paths) {
      const text = await (await c.req(p, { token })).text();
      for (const s of SECRETS) t.notOk(text.includes(s), `${who} ${p}: '${s}' not shown`);
    }
  }
  const cam = await (await c.req('/config/cameras/cam-001', { token: viewer })).json();
  t.equal(cam.rtsp_url, 'rtsp://***:***@127.0.0.1:8554/stream1?password=***&channel=1', 'userinfo up to the last @ and the password query value masked');
  t.same(cam.metadata.onvif, { user: 'onvif-admin', password: '********' });
  const e = await (await c.req('/config/exporters/exporter-001', { token: viewer })).json();
  t.equal(e.url, 'http://***:***@127.0.0.1:9/ingest?token=***&site=north');
  t.same(e.headers, { 'Content-Type': 'application/json', 'X-Custom-Auth': '********', Authorization: '********' }, 'only allowlisted header values shown');
  t.same(e.auth, { type: 'bearer', token: '********' });
  const m = await (await c.req('/config/exporters/exporter-002', { token: viewer })).json();
  t.equal(m.url, 'mqtt://***:***@127.0.0.1:1883');
  t.equal(m.config.password, '********');
  t.equal((await (await c.req('/config/sensors/sensor-001', { token: viewer })).json()).config.cloud.api_key, '********', 'nested secret masked');

  for (const [who, opts] of [['admin', { token: c.adminToken }], ['edge', { key: c.apiKey }]] as const) {
    const full = await (await c.req('/config/cameras/cam-001', opts)).json();
    t.equal(full.rtsp_url, camera.rtsp_url, `${who} reads the real camera URL`);
    const ex = await (await c.req('/config/exporters/exporter-001', opts)).json();
    t.same([ex.url, ex.headers['X-Custom-Auth'], ex.auth.token], [rest.url, 'hdr-secret', 'tok-123'], `${who} reads the exporter's credentials`);
  }
});

t.test('a mask written back is refused with 400 naming the field and changes nothing', async (t) => {
  const c = await startTestCloud(t);
  await c.req('/config/cameras', { method: 'POST', token: c.adminToken, json: camera });
  await c.req('/config/exporters', { method: 'POST', token: c.adminToken, json: rest });
  const viewer = await c.addUser('viewer1', 'viewer-password', 'viewer');
  const operator = await c.addUser('operator1', 'operator-password', 'operator');
  const shown = await (await c.req('/config/exporters/exporter-001', { token: viewer })).json();
  const before = await (await c.req('/config/exporters/exporter-001', { token: c.adminToken })).json();

  t.equal((await c.req('/config/exporters/exporter-001', { method: 'PUT', token: operator, json: shown })).status, 403, 'operators cannot write config at all');
  const { id: _i, created_at: _c, updated_at: _u, ...body } = shown;
  const r = await c.req('/config/exporters/exporter-001', { method: 'PUT', token: c.adminToken, json: body });
  t.equal(r.status, 400);
  const err = await r.json();
  t.equal(err.error_code, 'VALIDATION_ERROR');
  t.same(err.errors.map((e: { field: string }) => e.field).sort(), ['auth.token', 'headers.Authorization', 'headers.X-Custom-Auth', 'url']);
  t.same(await (await c.req('/config/exporters/exporter-001', { token: c.adminToken })).json(), before, 'nothing changed');

  const cam = await (await c.req('/config/cameras/cam-001', { token: viewer })).json();
  const put = await c.req('/config/cameras/cam-001', { method: 'PUT', token: c.adminToken, json: { rtsp_url: cam.rtsp_url } });
  t.equal(put.status, 400, 'a masked camera URL is refused');
  t.equal((await c.req('/config/cameras/cam-001', { method: 'PUT', token: c.adminToken, json: { name: 'Gate 2' } })).status, 200, 'leaving the secret out keeps it');
  t.equal((await (await c.req('/config/cameras/cam-001', { token: c.adminToken })).json()).rtsp_url, camera.rtsp_url);
  const created = await c.req('/config/exporters', { method: 'POST', token: c.adminToken, json: { ...rest, auth: { type: 'bearer', token: '********' } } });
  t.equal(created.status, 400, 'a create carrying a mask is refused too');
});
