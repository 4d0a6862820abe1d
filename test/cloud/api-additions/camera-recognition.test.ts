/**
 * Per-camera recognition settings in the cloud's camera config (`metadata.recognition`):
 * validated by the shared schema, a bad value is a 400 naming the field and stores nothing,
 * a partial PUT changes one setting or unsets it with null, and /openapi.json documents it.
 */
import t from 'tap';
import { startTestCloud } from '../helpers.js';
import { CameraCreate } from '../../../shared/schemas/config.js';
import { CameraRecognition } from '../../../shared/schemas/camera-recognition.js';

const camera = {
  id: 'cam-br',
  name: 'Portão',
  rtsp_url: 'rtsp://127.0.0.1:8554/gate',
  resolution: { width: 1280, height: 720 },
  metadata: {
    location: 'Main gate',
    recognition: { regions: ['br'], roi: { x: 0, y: 200, width: 1280, height: 520 }, min_plate_height: 18, min_confidence: 0.8, confirm_frames: 3, hwaccel: 'nvdec' },
  },
};

t.test('the camera config validates metadata.recognition with the shared schema', async (t) => {
  const shape = CameraCreate.shape.metadata.unwrap().shape;
  t.equal(shape.recognition.unwrap().unwrap(), CameraRecognition, 'the cloud validates with the same schema object as the edge');
});

t.test('POST stores valid settings; bad ones are a 400 naming the field and store nothing', async (t) => {
  const c = await startTestCloud(t);
  const admin = { token: c.adminToken };
  const created = await c.req('/config/cameras', { method: 'POST', ...admin, json: camera });
  t.equal(created.status, 201);
  t.same((await created.json()).metadata, camera.metadata);
  const seen = await (await c.req('/config/cameras/cam-br', { key: c.apiKey })).json();
  t.same(seen.metadata.recognition, camera.metadata.recognition, 'an edge (API key) reads the settings');

  const rec = camera.metadata.recognition;
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['unknown region', { ...rec, regions: ['br', 'xx'] }, 'metadata.recognition.regions.1'],
    ['ROI past the right edge', { ...rec, roi: { x: 100, y: 0, width: 1280, height: 100 } }, 'metadata.recognition.roi'],
    ['ROI past the bottom', { ...rec, roi: { x: 0, y: 700, width: 100, height: 21 } }, 'metadata.recognition.roi'],
    ['negative ROI', { ...rec, roi: { x: -1, y: 0, width: 100, height: 100 } }, 'metadata.recognition.roi.x'],
    ['plate height 0', { ...rec, min_plate_height: 0 }, 'metadata.recognition.min_plate_height'],
    ['fractional plate height', { ...rec, min_plate_height: 12.5 }, 'metadata.recognition.min_plate_height'],
    ['confidence above 1', { ...rec, min_confidence: 1.5 }, 'metadata.recognition.min_confidence'],
    ['confidence as a string', { ...rec, min_confidence: '0.8' }, 'metadata.recognition.min_confidence'],
    ['11 confirm frames', { ...rec, confirm_frames: 11 }, 'metadata.recognition.confirm_frames'],
    ['0 confirm frames', { ...rec, confirm_frames: 0 }, 'metadata.recognition.confirm_frames'],
    ['unknown hwaccel', { ...rec, hwaccel: 'cuda' }, 'metadata.recognition.hwaccel'],
    ['unknown setting', { ...rec, min_frames: 2 }, 'metadata.recognition.min_frames'],
  ];
  for (const [what, recognition, field] of cases) {
    const r = await c.req('/config/cameras', { method: 'POST', ...admin, json: { ...camera, id: 'cam-bad', metadata: { recognition } } });
    t.equal(r.status, 400, what);
    const body = await r.json();
    t.equal(body.error_code, 'VALIDATION_ERROR', what);
    t.same(body.errors.map((e: { field: string }) => e.field), [field], `${what}: names ${field}`);
  }
  const regionError = await (await c.req('/config/cameras', { method: 'POST', ...admin, json: { ...camera, id: 'cam-bad', metadata: { recognition: { regions: ['xx'] } } } })).json();
  t.match(regionError.errors[0].message, /unknown plate region 'xx' \(known: .*br/);
  const list = await (await c.req('/config/cameras', admin)).json();
  t.same(list.items.map((x: { id: string }) => x.id), ['cam-br'], 'nothing stored by a rejected POST');
});

t.test('PUT changes one setting, unsets one with null, and refuses a resolution the ROI no longer fits', async (t) => {
  const c = await startTestCloud(t);
  const admin = { token: c.adminToken };
  t.equal((await c.req('/config/cameras', { method: 'POST', ...admin, json: camera })).status, 201);

  const up = await c.req('/config/cameras/cam-br', { method: 'PUT', ...admin, json: { metadata: { recognition: { min_confidence: 0.9, roi: null } } } });
  t.equal(up.status, 200);
  const u = await up.json();
  t.same(u.metadata.recognition, { ...camera.metadata.recognition, min_confidence: 0.9, roi: null }, 'merged into the stored settings');
  t.equal(u.metadata.location, 'Main gate', 'the rest of the metadata is kept');

  t.equal((await c.req('/config/cameras/cam-br', { method: 'PUT', ...admin, json: { metadata: { recognition: { roi: { x: 0, y: 0, width: 640, height: 480 } } } } })).status, 200);
  const before = await (await c.req('/config/cameras/cam-br', admin)).json();
  const bad = await c.req('/config/cameras/cam-br', { method: 'PUT', ...admin, json: { resolution: { width: 320, height: 240 } } });
  t.equal(bad.status, 400);
  t.same((await bad.json()).errors.map((e: { field: string }) => e.field), ['metadata.recognition.roi'], 'a smaller frame no longer holds the ROI');
  const badRegion = await c.req('/config/cameras/cam-br', { method: 'PUT', ...admin, json: { metadata: { recognition: { regions: ['zz'] } } } });
  t.equal(badRegion.status, 400);
  t.same(await (await c.req('/config/cameras/cam-br', admin)).json(), before, 'a failed PUT changes nothing');

  // Cameras without settings stay exactly the contract's shape.
  const plain = await (await c.req('/config/cameras', { method: 'POST', ...admin, json: { name: 'Plain', rtsp_url: 'rtsp://127.0.0.1/p', metadata: { recognition: null } } })).json();
  t.same(plain.metadata, { recognition: null });
});

t.test('/openapi.json documents the settings in the camera metadata', async (t) => {
  const c = await startTestCloud(t);
  const doc = await (await c.req('/openapi.json')).json();
  const rec = doc.components.schemas.CameraRecognition;
  t.ok(rec, 'CameraRecognition is a named schema');
  t.same(Object.keys(rec.properties).sort(), ['confirm_frames', 'hwaccel', 'min_confidence', 'min_plate_height', 'regions', 'roi']);
  for (const [k, v] of Object.entries(rec.properties as Record<string, { description?: string }>)) t.ok(v.description, `${k} is described`);
  t.match(JSON.stringify(doc.components.schemas.CameraCreate.properties.metadata), /CameraRecognition/, 'CameraCreate.metadata.recognition refers to it');
});
