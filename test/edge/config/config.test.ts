import t from 'tap';
import { writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { EdgeConfig } from '../../../edge/config/schema.js';
import { loadEdgeConfig, parseEdgeConfig } from '../../../edge/config/load.js';
import { CloudConfigSync } from '../../../edge/config/cloud-sync.js';
import { tempDir } from '../../fixtures/media.js';
import { ConfigServer } from '../../fixtures/config-server.js';

t.test('a minimal YAML config gets documented defaults', async (t) => {
  const dir = tempDir(t);
  const f = join(dir, 'edge.yaml');
  writeFileSync(f, 'edge_id: gate-1\ncameras:\n  - id: cam-1\n    rtsp_url: rtsp://u:p@10.0.0.2/s\n');
  const c = loadEdgeConfig(f);
  t.equal(c.data_dir, '/var/lib/anpr');
  t.equal(c.cameras[0].fps, 10, "the cloud's default (shared CAMERA_DEFAULTS)");
  t.same(c.cameras[0].resolution, { width: 1920, height: 1080 });
  t.equal(c.cloud, null);
  t.equal(parseEdgeConfig({ edge_id: 'e', cloud: { url: 'http://127.0.0.1:1', api_key: 'k'.repeat(8) } }).cloud?.heartbeat_s, 5, 'cloud.heartbeat_s defaults to DEFAULT_HEARTBEAT_S');
  t.equal(c.http.host, '127.0.0.1');
  t.equal(c.cloud, null);
  const j = join(dir, 'edge.json');
  writeFileSync(j, JSON.stringify({ edge_id: 'gate-1' }));
  t.equal(loadEdgeConfig(j).edge_id, 'gate-1');
});

t.test('strict: unknown keys, bad values and duplicates are reported by field', async (t) => {
  const err = (raw: unknown) => { try { parseEdgeConfig(raw); return []; } catch (e) { return (e as { errors: Array<{ field: string }> }).errors.map((x) => x.field); } };
  t.same(err({ edge_id: 'e', camras: [] }), ['camras']);
  t.same(err({ edge_id: 'e', cameras: [{ id: 'c', rtsp_url: 'rtsp://x/y', fsp: 5 }] }), ['cameras.0.fsp']);
  t.ok(err({ edge_id: 'e', cameras: [{ id: 'c', rtsp_url: 'rtsp://x/y', fps: 500 }] }).includes('cameras.0.fps'));
  t.ok(err({ edge_id: 'bad id' }).includes('edge_id'));
  t.same(err({ edge_id: 'e', cameras: [{ id: 'c', rtsp_url: 'rtsp://x/y' }, { id: 'c', rtsp_url: 'rtsp://x/z' }] }), ['cameras.1.id']);
  t.ok(err({ edge_id: 'e', cameras: [{ id: 'c', rtsp_url: 'ftp://x' }] }).includes('cameras.0.rtsp_url'));
  const dir = tempDir(t);
  writeFileSync(join(dir, 'bad.yaml'), 'edge_id: [unclosed');
  t.throws(() => loadEdgeConfig(join(dir, 'bad.yaml')), { code: 'CONFIG_INVALID' });
});

t.test('every field of the edge config is described', async (t) => {
  const missing: string[] = [];
  const walk = (s: z.ZodType, path: string, top = true): void => {
    const def = (s as unknown as { def: { type: string; innerType?: z.ZodType; element?: z.ZodType; shape?: Record<string, z.ZodType>; in?: z.ZodType } }).def;
    if (!top && !s.description && !['array', 'object'].includes(def.type)) missing.push(path);
    if (def.innerType) return walk(def.innerType, path, true);
    if (def.type === 'pipe' && def.in) return walk(def.in, path, true);
    if (def.type === 'array' && def.element) return walk(def.element, path + '[]', true);
    if (def.type === 'object' && def.shape) for (const [k, v] of Object.entries(def.shape)) {
      if (!v.description) missing.push(`${path}.${k}`);
      walk(v, `${path}.${k}`, true);
    }
  };
  const shape = (EdgeConfig as unknown as { shape: Record<string, z.ZodType> }).shape;
  for (const [k, v] of Object.entries(shape)) {
    if (!v.description) missing.push(k);
    if (k !== 'exporters' && k !== 'zones') walk(v, k);
  }
  t.same(missing, [], 'fields without a description');
});

t.test('cloud config sync: takes the cloud lists, caches the last good copy, starts offline from it', async (t) => {
  const cloud = await new ConfigServer().start();
  t.teardown(() => cloud.stop());
  const dir = tempDir(t);
  cloud.lists.cameras = [
    { id: 'cam-1', name: 'Gate', rtsp_url: 'rtsp://a:b@10.0.0.9/1', enabled: true, zone_id: 'z1', fps: 10, resolution: { width: 1920, height: 1080 }, created_at: 'x', updated_at: 'y' },
    { id: 'cam-2', name: 'Exit', rtsp_url: 'rtsp://10.0.0.10/1', enabled: false, zone_id: null, fps: 60, resolution: { width: 7680, height: 4320 } },
  ];
  cloud.lists.zones = [{ id: 'z1', name: 'In', camera_id: 'cam-1', type: 'enter', geometry: { type: 'polygon', points: [{ x: 0, y: 0 }, { x: 10, y: 0 }, { x: 10, y: 10 }] }, metadata: { allow: ['AB12CD'] } }];
  cloud.lists.exporters = [{ id: 'x1', name: 'hook', type: 'webhook', url: 'http://127.0.0.1:9/h', enabled: true, created_at: 'a', updated_at: 'b' }];
  const base = parseEdgeConfig({ edge_id: 'e1', data_dir: dir, cloud: { url: cloud.url, api_key: cloud.apiKey }, cameras: [{ id: 'cam-1', rtsp_url: 'rtsp://old/1', hwaccel: 'nvdec' }] });
  const sync = new CloudConfigSync({ base });
  const cfg = await sync.initial();
  t.equal(sync.source, 'cloud');
  t.same(cfg.cameras.map((c) => [c.id, c.enabled, c.fps, c.hwaccel]), [['cam-1', true, 10, 'nvdec'], ['cam-2', false, 60, 'none']], 'paged lists read whole (an older cloud: no bundle route); the shared bounds, nothing clamped; edge-only settings kept');
  t.same(cfg.cameras[1].resolution, { width: 7680, height: 4320 });
  t.equal(sync.legacy, true);
  t.equal(sync.version, null, 'the lists have no version');
  t.same(cfg.zones[0].allow, ['AB12CD']);
  t.equal(cfg.exporters[0].name, 'hook');
  t.ok(existsSync(sync.cachePath));
  t.notMatch(readFileSync(sync.cachePath, 'utf8'), new RegExp(cloud.apiKey), 'the API key is not cached');

  // A change is applied without a restart.
  const changed = new Promise((r) => sync.once('change', r));
  cloud.lists.cameras = cloud.lists.cameras.slice(0, 1);
  t.equal(await sync.syncOnce(), true);
  t.equal(((await changed) as { cameras: unknown[] }).cameras.length, 1);
  t.equal(await sync.syncOnce(), false, 'no change, no event');

  // An invalid zone is left out alone and reported; the rest is as in force (items are checked
  // one by one: test/edge/config/camera-recognition.test.ts, test/edge/config/fleet-sync.test.ts).
  const z1 = cloud.lists.zones[0];
  cloud.lists.zones = [z1, { id: 'bad zone!', camera_id: 'cam-1', geometry: { type: 'polygon', points: [] } }];
  t.equal(await sync.syncOnce(), false, 'nothing else changed');
  t.equal(sync.lastError, null, 'the config is not refused for one item');
  t.same(sync.problems.map((p) => [p.kind, p.id, p.dropped]), [['zones', 'bad zone!', 'item']]);
  cloud.lists.zones = [z1];

  // Cloud unreachable at start: the cached copy is used.
  await cloud.stop();
  const offline = new CloudConfigSync({ base });
  const cfg2 = await offline.initial();
  t.equal(offline.source, 'cache');
  t.same(cfg2.cameras.map((c) => c.id), ['cam-1']);
  t.equal(cfg2.cloud?.api_key, cloud.apiKey, 'local settings (the key) still come from the file');
});
