/**
 * The versioned config bundle (issue 9): the edge asks `GET /edges/{id}/config` with
 * If-None-Match, so an unchanged config is a 304 and is not re-read; an older cloud (404) is read
 * through its lists; every request names this installation (X-Edge-Instance).
 */
import t from 'tap';
import { parseEdgeConfig } from '../../../edge/config/load.js';
import { CloudConfigSync } from '../../../edge/config/cloud-sync.js';
import type { EdgeConfig } from '../../../edge/config/schema.js';
import { tempDir } from '../../fixtures/media.js';
import { FleetCloud } from '../../fixtures/fleet-cloud.js';
import { EDGE_LIMITS } from '../../../shared/schemas/edge.js';

const cam = (id: string, extra: Record<string, unknown> = {}) => ({ id, name: id, rtsp_url: `rtsp://127.0.0.1:1/${id}`, enabled: true, fps: 10, resolution: { width: 640, height: 480 }, metadata: {}, ...extra });

t.test('bundle with ETag: 304 re-reads and re-applies nothing; a new version is applied; the version in force is kept', async (t) => {
  const cloud = await new FleetCloud().start();
  t.teardown(() => cloud.stop());
  cloud.lists.cameras = [cam('cam-1')];
  const base = parseEdgeConfig({ edge_id: 'gate-a', data_dir: tempDir(t), cloud: { url: cloud.url, api_key: cloud.apiKey } });
  const sync = new CloudConfigSync({ base, instanceId: 'inst-0001-abcd' });
  let changes = 0;
  sync.on('change', () => changes++);
  const cfg = await sync.initial();
  t.same(cfg.cameras.map((c) => c.id), ['cam-1']);
  t.equal(sync.version, cloud.version(), "the bundle's version is the one in force");
  t.equal(sync.legacy, false);
  t.same(cloud.counts, { bundle: 1, notModified: 0, lists: 0, heartbeat: 0 });

  t.equal(await sync.syncOnce(), false);
  t.equal(await sync.syncOnce(), false);
  t.same(cloud.counts, { bundle: 1, notModified: 2, lists: 0, heartbeat: 0 }, 'unchanged: two 304s, nothing re-read');
  t.equal(changes, 0);

  cloud.lists.cameras = [cam('cam-1'), cam('cam-2')];
  t.equal(await sync.syncOnce(), true, 'a new version is applied');
  t.equal(changes, 1);
  t.equal(sync.version, cloud.version());
  t.equal(cloud.counts.bundle, 2);
  t.ok(cloud.instances.every((r) => r.instance === 'inst-0001-abcd'), 'X-Edge-Instance on every config request');

  // Offline restart: the cache carries the version in force.
  await cloud.stop();
  const offline = new CloudConfigSync({ base });
  const cached = await offline.initial();
  t.equal(offline.source, 'cache');
  t.same(cached.cameras.map((c) => c.id), ['cam-1', 'cam-2']);
  t.equal(offline.version, sync.version);
});

t.test('an older cloud without the bundle route (404): the /config lists are read, the edge runs', async (t) => {
  const cloud = await new FleetCloud().start();
  t.teardown(() => cloud.stop());
  cloud.fleetRoutes = false;
  cloud.lists.cameras = [cam('cam-1')];
  const base = parseEdgeConfig({ edge_id: 'gate-a', data_dir: tempDir(t), cloud: { url: cloud.url, api_key: cloud.apiKey } });
  const sync = new CloudConfigSync({ base });
  const cfg = await sync.initial();
  t.same(cfg.cameras.map((c) => c.id), ['cam-1']);
  t.equal(sync.legacy, true);
  t.equal(sync.version, null);
  t.equal(sync.lastError, null);
  t.ok(cloud.counts.lists >= 5, 'every list read');
  // The cloud is upgraded: the bundle is used from the next poll on.
  cloud.fleetRoutes = true;
  cloud.lists.cameras = [cam('cam-1'), cam('cam-2')];
  t.equal(await sync.syncOnce(), true);
  t.equal(sync.legacy, false);
  t.equal(sync.version, cloud.version());
});

t.test('per item: a bad camera, zone, sensor and exporter are each left out and reported; the rest is applied; none is clamped', async (t) => {
  const cloud = await new FleetCloud().start();
  t.teardown(() => cloud.stop());
  const poly = { type: 'polygon', points: [{ x: 0, y: 0 }, { x: 640, y: 0 }, { x: 640, y: 480 }] };
  cloud.lists.cameras = [cam('cam-ctl', { rtsp_url: 'rtsp://127.0.0.1:1/a\u0001b' }), cam('cam-fast', { fps: 90 }), cam('cam-ok'), cam('cam-cap', { metadata: { capture: { heartbeat_s: 20, input_options: [{ option: '-rtsp_transport', value: 'tcp' }] } } }), cam('cam-badcap', { metadata: { capture: { heartbeat_s: 0.1, input_options: [{ option: '-i', value: 'x' }] } } })];
  cloud.lists.zones = [
    { id: 'z-long', name: 'L', camera_id: 'cam-ok', type: 'enter', geometry: poly, metadata: { allow: ['X'.repeat(33)] } },
    { id: 'z-ok', name: 'O', camera_id: 'cam-ok', type: 'enter', geometry: poly, metadata: { allow: ['AB12CD'] } },
  ];
  cloud.lists.sensors = [{ id: 's-bad', name: 'S', type: 'teleporter' }, { id: 's-ok', name: 'Gate', type: 'barrier', camera_id: 'cam-ok', zone_id: null, config: {}, metadata: {} }];
  cloud.lists.exporters = [{ id: 'x-bad', name: 'hook', type: 'webhook', url: 'ftp://nope', enabled: true }, { id: 'x-ok', name: 'mq', type: 'mqtt', url: 'mqtt://127.0.0.1:1', enabled: true }];
  const base = parseEdgeConfig({ edge_id: 'gate-a', data_dir: tempDir(t), cloud: { url: cloud.url, api_key: cloud.apiKey }, cameras: [{ id: 'cam-badcap', rtsp_url: 'rtsp://127.0.0.1:1/x', heartbeat_s: 4, ffmpeg_input_args: ['-fflags', 'nobuffer'] }] });
  const sync = new CloudConfigSync({ base });
  const cfg: EdgeConfig = await sync.initial();
  t.equal(sync.lastError, null, 'the config is not refused for one item');
  t.same(cfg.cameras.map((c) => c.id), ['cam-ok', 'cam-cap', 'cam-badcap']);
  t.same(cfg.zones.map((z) => z.id), ['z-ok']);
  t.same(cfg.sensors.map((s) => s.id), ['s-ok']);
  t.same(cfg.exporters.map((e) => e.name), ['mq']);
  const cap = cfg.cameras.find((c) => c.id === 'cam-cap')!;
  t.equal(cap.heartbeat_s, 20, 'metadata.capture.heartbeat_s');
  t.same(cap.ffmpeg_input_args, ['-rtsp_transport', 'tcp'], 'metadata.capture.input_options as ffmpeg args');
  const badcap = cfg.cameras.find((c) => c.id === 'cam-badcap')!;
  t.equal(badcap.heartbeat_s, 4, "a bad capture setting is dropped: the file's applies");
  t.same(badcap.ffmpeg_input_args, ['-fflags', 'nobuffer']);
  t.same(
    sync.problems.map((p) => [p.kind, p.id, p.dropped]),
    [['cameras', 'cam-ctl', 'item'], ['cameras', 'cam-fast', 'item'], ['cameras', 'cam-badcap', 'settings'], ['zones', 'z-long', 'item'], ['sensors', 's-bad', 'item'], ['exporters', 'x-bad', 'item']],
  );
  const errs = (id: string) => sync.problems.find((p) => p.id === id)!.errors.join(' ');
  t.match(errs('cam-ctl'), /rtsp_url.*control characters/);
  t.match(errs('cam-fast'), /fps/, 'fps out of the shared bounds is refused, not clamped');
  t.match(errs('cam-badcap'), /metadata\.capture\.heartbeat_s.*metadata\.capture\.input_options/);
  t.match(errs('z-long'), /metadata\.allow\.0/);
  t.match(errs('x-bad'), /url/);

  // A zone in force that turns bad keeps its version in force.
  cloud.lists.zones = [{ ...cloud.lists.zones[1], metadata: { allow: ['Y'.repeat(40)] } }];
  t.equal(await sync.syncOnce(), false, 'nothing to apply: z-ok keeps its version in force');
  t.same(sync.problems.filter((p) => p.kind === 'zones').map((p) => p.id), ['z-ok']);
});

t.test('more items than an edge runs (a database filled before the cloud checked): the first ones by id run, the rest are reported', async (t) => {
  const cloud = await new FleetCloud().start();
  t.teardown(() => cloud.stop());
  cloud.lists.cameras = Array.from({ length: EDGE_LIMITS.cameras + 2 }, (_, i) => cam(`cam-${String(i).padStart(3, '0')}`));
  const base = parseEdgeConfig({ edge_id: 'gate-a', data_dir: tempDir(t), cloud: { url: cloud.url, api_key: cloud.apiKey } });
  const sync = new CloudConfigSync({ base });
  const cfg = await sync.initial();
  t.equal(sync.lastError, null, 'the config is not refused');
  t.equal(cfg.cameras.length, EDGE_LIMITS.cameras);
  t.same(sync.problems.map((p) => [p.kind, p.id, p.dropped]), [['cameras', 'cam-064', 'item'], ['cameras', 'cam-065', 'item']]);
  t.match(sync.problems[0]!.errors.join(' '), /at most 64 cameras/);
});
