/**
 * Per-camera recognition settings on the edge: the file's `cameras[]` fields and the cloud's
 * `metadata.recognition` are the same shared schema; cloud cameras are checked one by one, so a
 * bad setting or a bad camera never takes the other cameras down.
 */
import t from 'tap';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { EdgeCamera, type EdgeConfig } from '../../../edge/config/schema.js';
import { parseEdgeConfig } from '../../../edge/config/load.js';
import { CloudConfigSync } from '../../../edge/config/cloud-sync.js';
import { CameraRecognition } from '../../../shared/schemas/camera-recognition.js';
import { CameraCreate } from '../../../shared/schemas/config.js';
import { tempDir } from '../../fixtures/media.js';
import { ConfigServer } from '../../fixtures/config-server.js';

const fields = (e: unknown) => ((e as { errors?: Array<{ field: string }> }).errors ?? []).map((x) => x.field);
const parseErr = (raw: unknown) => {
  try {
    parseEdgeConfig(raw);
    return [];
  } catch (e) {
    return fields(e);
  }
};

t.test('the edge camera and the cloud camera use the same recognition schema object', async (t) => {
  for (const k of ['regions', 'roi', 'min_plate_height', 'min_confidence', 'confirm_frames'] as const) {
    t.equal(EdgeCamera.shape[k], CameraRecognition.shape[k], `cameras[].${k} is the shared field schema`);
  }
  t.equal(CameraCreate.shape.metadata.unwrap().shape.recognition.unwrap().unwrap(), CameraRecognition, "the cloud's metadata.recognition is the same object");
});

t.test('the edge file takes the settings per camera and names a bad one', async (t) => {
  const cam = { id: 'c', rtsp_url: 'rtsp://x/y', resolution: { width: 640, height: 480 } };
  const cfg = parseEdgeConfig({
    edge_id: 'e',
    cameras: [{ ...cam, regions: ['br'], roi: { x: 0, y: 240, width: 640, height: 240 }, min_plate_height: 16, min_confidence: 0.7, confirm_frames: 2, hwaccel: 'jetson' }],
  });
  t.match(cfg.cameras[0], { regions: ['br'], roi: { x: 0, y: 240, width: 640, height: 240 }, min_plate_height: 16, min_confidence: 0.7, confirm_frames: 2, hwaccel: 'jetson' });
  t.same(parseErr({ edge_id: 'e', cameras: [{ ...cam, regions: ['xx'] }] }), ['cameras.0.regions.0']);
  t.same(parseErr({ edge_id: 'e', cameras: [{ ...cam, roi: { x: 600, y: 0, width: 100, height: 100 } }] }), ['cameras.0.roi'], 'the ROI must lie inside the resolution');
  t.same(parseErr({ edge_id: 'e', cameras: [{ ...cam, min_confidence: 2 }] }), ['cameras.0.min_confidence']);
  t.same(parseErr({ edge_id: 'e', cameras: [{ ...cam, confirm_frames: 11 }] }), ['cameras.0.confirm_frames']);
  t.same(parseErr({ edge_id: 'e', cameras: [{ ...cam, min_plate_height: 2 }] }), ['cameras.0.min_plate_height']);
  t.same(parseErr({ edge_id: 'e', cameras: [{ ...cam, hwaccel: 'vaapi' }] }), ['cameras.0.hwaccel']);
});

t.test("cloud cameras: metadata.recognition becomes the camera's settings; bad settings or cameras are skipped, the rest kept", async (t) => {
  const cloud = await new ConfigServer().start();
  t.teardown(() => cloud.stop());
  cloud.pageSize = 100;
  const logs: Array<{ level: number; msg: string; camera?: string; errors?: string[] }> = [];
  const logger = pino({ level: 'info' }, new Writable({ write(chunk, _e, cb) { for (const l of String(chunk).split('\n')) if (l) logs.push(JSON.parse(l)); cb(); } }));
  const res = { width: 1280, height: 720 };
  const good = { id: 'cam-br', name: 'BR', rtsp_url: 'rtsp://10.0.0.1/br', fps: 5, resolution: res, metadata: { recognition: { regions: ['br'], roi: { x: 0, y: 360, width: 1280, height: 360 }, min_plate_height: 20, min_confidence: 0.85, confirm_frames: 3, hwaccel: 'nvdec' } } };
  const plain = { id: 'cam-plain', name: 'Plain', rtsp_url: 'rtsp://10.0.0.2/p', fps: 5, resolution: res, metadata: { location: 'side', recognition: null } };
  cloud.lists.cameras = [good, plain];
  const base = parseEdgeConfig({
    edge_id: 'e1',
    data_dir: tempDir(t),
    cloud: { url: cloud.url, api_key: cloud.apiKey },
    // The file's settings for a cloud camera apply where the cloud sets none.
    cameras: [{ id: 'cam-plain', rtsp_url: 'rtsp://old/p', regions: ['lt'], hwaccel: 'jetson', min_confidence: 0.6 }],
  });
  const sync = new CloudConfigSync({ base, logger });
  /** The next config the sync emits. */
  const nextChange = () => new Promise<EdgeConfig>((r) => sync.once('change', r));
  const cfg = await sync.initial();
  const br = cfg.cameras.find((c) => c.id === 'cam-br')!;
  t.match(br, { regions: ['br'], roi: { x: 0, y: 360, width: 1280, height: 360 }, min_plate_height: 20, min_confidence: 0.85, confirm_frames: 3, hwaccel: 'nvdec' });
  const p = cfg.cameras.find((c) => c.id === 'cam-plain')!;
  t.match(p, { regions: ['lt'], hwaccel: 'jetson', min_confidence: 0.6 }, "the file's settings where the cloud has none");
  t.same(sync.problems, []);

  // A cloud value wins over the file's; null falls back to it.
  cloud.lists.cameras = [good, { ...plain, metadata: { recognition: { regions: ['eu'], hwaccel: null, min_confidence: null } } }];
  let changed = nextChange();
  t.equal(await sync.syncOnce(), true);
  const p2 = (await changed).cameras.find((c) => c.id === 'cam-plain')!;
  t.match(p2, { regions: ['eu'], hwaccel: 'jetson', min_confidence: 0.6 });

  // Bad settings (an older edge, another cloud…): dropped one by one, the camera and the others stay.
  const odd = { ...good, id: 'cam-odd', metadata: { recognition: { regions: ['br', 'xx'], min_confidence: 7, confirm_frames: 4, roi: { x: 0, y: 0, width: 1280, height: 720 } } } };
  // An ROI outside the camera's frame (an older cloud did not check it) is dropped alone.
  const big = { ...good, id: 'cam-4k', metadata: { recognition: { roi: { x: 0, y: 0, width: 7680, height: 4320 }, confirm_frames: 5 } } };
  const broken = { id: 'cam-broken', name: 'Broken', rtsp_url: 'ftp://nope', resolution: res };
  cloud.lists.cameras = [good, odd, big, broken, plain];
  changed = nextChange();
  t.equal(await sync.syncOnce(), true, 'the good part of the list is applied');
  const next = await changed;
  t.same(next.cameras.map((c) => c.id), ['cam-br', 'cam-odd', 'cam-4k', 'cam-plain'], 'the broken camera is left out, every other one is kept');
  const o = next.cameras.find((c) => c.id === 'cam-odd')!;
  t.equal(o.regions, undefined, 'the bad regions are ignored');
  t.equal(o.min_confidence, undefined, 'the bad confidence is ignored');
  t.equal(o.confirm_frames, 4, 'the good settings of that camera are kept');
  t.same(o.roi, { x: 0, y: 0, width: 1280, height: 720 });
  const k = next.cameras.find((c) => c.id === 'cam-4k')!;
  t.equal(k.roi, undefined, "an ROI outside the edge's frame is ignored");
  t.equal(k.confirm_frames, 5);
  t.same(sync.problems.map((x) => [x.kind, x.id, x.dropped]), [['cameras', 'cam-odd', 'settings'], ['cameras', 'cam-4k', 'settings'], ['cameras', 'cam-broken', 'item']]);
  t.match(sync.problems[0].errors.join(' '), /metadata\.recognition\.regions\.1: unknown plate region 'xx'.*metadata\.recognition\.min_confidence/);
  t.match(sync.problems[2].errors.join(' '), /rtsp_url/);
  const warned = () => logs.filter((l) => /refused|without some settings/.test(l.msg)).map((l) => l.camera);
  t.same(warned(), ['cam-odd', 'cam-4k', 'cam-broken'], 'each problem is logged');
  t.equal(await sync.syncOnce(), false, 'no change');
  t.same(warned(), ['cam-odd', 'cam-4k', 'cam-broken'], 'the same problems are not logged again on every poll');

  // A camera in force that turns invalid in the cloud keeps its version in force.
  cloud.lists.cameras = [{ ...good, rtsp_url: 'not a url' }, plain];
  changed = nextChange();
  t.equal(await sync.syncOnce(), true);
  const cur = await changed;
  t.same(cur.cameras.map((c) => c.id), ['cam-br', 'cam-plain']);
  t.equal(cur.cameras[0].rtsp_url, good.rtsp_url, 'the version in force');
  t.same(sync.problems.map((x) => [x.id, x.dropped]), [['cam-br', 'item']]);
});
