/**
 * The edge in a fleet (issue 9), against a loopback cloud speaking the contract
 * (test/fixtures/fleet-cloud.ts): per-item apply with healthz naming what is wrong, heartbeats
 * valid against the shared EdgeHeartbeat schema, the 304 path, capture settings applied live to
 * one camera, the instance id kept across restarts, and 409 EDGE_ID_IN_USE → exit 78.
 */
import t from 'tap';
import { readFileSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { EdgeDaemon, EX_CONFIG } from '../../../edge/daemon/daemon.js';
import { parseEdgeConfig } from '../../../edge/config/load.js';
import { FakeRecognizer } from '../../fixtures/fake-recognizer.js';
import { FleetCloud } from '../../fixtures/fleet-cloud.js';
import { tempDir, makeClip } from '../../fixtures/media.js';
import { startEdgeProcess } from '../../fixtures/processes.js';
import { waitFor } from '../../fixtures/wait.js';

const dir = tempDir(t, 'anpr-fleet-');
const clip = makeClip(dir, { seconds: 2, size: '160x120', rate: 10 });
const res = { width: 160, height: 120 };
const poly = { type: 'polygon', points: [{ x: 0, y: 0 }, { x: 160, y: 0 }, { x: 160, y: 120 }, { x: 0, y: 120 }] };
const cam = (id: string, extra: Record<string, unknown> = {}) => ({ id, name: id, rtsp_url: clip, enabled: true, fps: 10, resolution: res, metadata: {}, ...extra });

function edgeConfig(cloud: FleetCloud, dataDir: string, extra: Record<string, unknown> = {}) {
  return parseEdgeConfig({ edge_id: 'gate-a', data_dir: dataDir, cloud: { url: cloud.url, api_key: cloud.apiKey, sync_interval_s: 2, heartbeat_s: 1, deliver_events: false }, http: { port: 0 }, ...extra });
}

t.test('a bad camera and a bad zone from the cloud: the others run, healthz and the heartbeat say which; 304 re-applies nothing; capture settings live', async (t) => {
  const cloud = await new FleetCloud().start();
  t.teardown(() => cloud.stop());
  cloud.lists.cameras = [cam('cam-bad', { rtsp_url: 'rtsp://u:pw@127.0.0.1:1/x\u0001y' }), cam('cam-1'), cam('cam-2')];
  cloud.lists.zones = [
    { id: 'z-bad', name: 'Bad', camera_id: 'cam-1', type: 'enter', geometry: poly, metadata: { allow: ['TOO-LONG-'.repeat(5)] } },
    { id: 'z-1', name: 'In', camera_id: 'cam-1', type: 'enter', geometry: poly, metadata: {} },
  ];
  const dataDir = tempDir(t);
  const d = new EdgeDaemon({ config: edgeConfig(cloud, dataDir), recognizer: new FakeRecognizer(3) });
  t.teardown(() => d.stop());
  await d.start();
  await waitFor(() => d.status().camera_states.filter((c) => c.state === 'running').length === 2, 'cam-1 and cam-2 running');
  await waitFor(() => d.eventsCommitted >= 2, 'events from the good cameras');

  const hz = await request(`${d.httpUrl}/healthz`);
  const h = (await hz.body.json()) as { status: string; problems: string[] };
  t.equal(hz.statusCode, 200);
  t.equal(h.status, 'degraded');
  t.match(h.problems.join('\n'), /camera cam-bad refused \(rtsp_url: .*control characters/);
  t.match(h.problems.join('\n'), /zone z-bad refused \(metadata\.allow\.0/);
  t.notMatch(h.problems.join('\n'), /pw/, 'no credentials');

  const st = d.status();
  t.equal(st.config.version, cloud.version());
  t.ok(st.config.applied_at);
  t.same(st.config.problems.map((p) => [p.kind, p.id, p.dropped]), [['cameras', 'cam-bad', 'item'], ['zones', 'z-bad', 'item']]);
  t.match(st.camera_states.find((c) => c.id === 'cam-bad'), { state: 'invalid', fps: 0 });
  t.match((await request(`${d.httpUrl}/metrics`).then((r) => r.body.text())), /anpr_edge_config_problems 2/);

  // Heartbeats: valid EdgeHeartbeat bodies saying the same.
  await waitFor(() => cloud.heartbeats.filter((b) => b.body?.cameras.some((c) => c.id === 'cam-1' && c.state === 'running')).length >= 1, 'a heartbeat with cam-1 running');
  t.same(cloud.heartbeats.filter((b) => b.error).map((b) => b.error), [], 'every heartbeat body is a valid EdgeHeartbeat');
  const hb = cloud.heartbeats.at(-1)!;
  const instanceId = readFileSync(join(dataDir, 'instance-id'), 'utf8').trim();
  t.equal(hb.edgeId, 'gate-a');
  t.equal(hb.instance, instanceId, 'X-Edge-Instance is the instance id');
  t.equal(hb.body!.instance_id, instanceId);
  t.equal(statSync(join(dataDir, 'instance-id')).mode & 0o777, 0o600);
  t.equal(hb.body!.health, 'degraded');
  t.equal(hb.body!.interval_s, 1);
  t.equal(hb.body!.config.version, cloud.version());
  t.same(hb.body!.config.problems.map((p) => p.id), ['cam-bad', 'z-bad']);
  t.match(hb.body!.cameras.find((c) => c.id === 'cam-bad'), { state: 'invalid' });
  t.ok(hb.body!.version.length > 0);
  t.ok(cloud.instances.filter((r) => r.path.startsWith('/edges/')).every((r) => r.instance === instanceId), 'X-Edge-Instance on config requests too');

  // Unchanged config: 304, nothing re-applied.
  const appliedAt = st.config.applied_at;
  const n304 = cloud.counts.notModified;
  await waitFor(() => cloud.counts.notModified >= n304 + 1, 'a 304', 10_000, 50);
  t.equal(d.status().config.applied_at, appliedAt, 'a 304 re-applies nothing');
  t.equal(cloud.counts.bundle, 1);

  // Capture settings from the cloud: cam-2's capture restarts with them, cam-1's keeps running.
  const pid = (id: string) => d.status().cameras.find((c) => c.cameraId === id)?.pid;
  const pid1 = pid('cam-1');
  const pid2 = pid('cam-2');
  t.ok(pid1 && pid2);
  cloud.lists.cameras = [cloud.lists.cameras[0], cam('cam-1'), cam('cam-2', { metadata: { capture: { heartbeat_s: 7, input_options: [{ option: '-probesize', value: '5000000' }] } } })];
  await waitFor(() => d.config.cameras.find((c) => c.id === 'cam-2')?.heartbeat_s === 7, 'capture settings applied', 15_000, 50);
  t.same(d.config.cameras.find((c) => c.id === 'cam-2')!.ffmpeg_input_args, ['-probesize', '5000000']);
  await waitFor(() => pid('cam-2') !== pid2 && pid('cam-2') != null, "cam-2's capture restarted", 15_000, 50);
  t.equal(pid('cam-1'), pid1, "cam-1's capture was not restarted");
  t.equal(d.status().config.version, cloud.version());

  // Fixing the bad items clears the problems: healthz ok once every camera runs.
  cloud.lists.cameras = [cam('cam-1'), cloud.lists.cameras[2]];
  cloud.lists.zones = [cloud.lists.zones[1]];
  await waitFor(() => d.health().status === 'ok', 'healthz ok again', 15_000, 50);

  // The instance id survives a restart.
  await d.stop();
  const before = cloud.heartbeats.length;
  const d2 = new EdgeDaemon({ config: edgeConfig(cloud, dataDir), recognizer: new FakeRecognizer(3), http: false });
  t.teardown(() => d2.stop());
  await d2.start();
  await waitFor(() => cloud.heartbeats.length > before, 'a heartbeat after the restart');
  t.equal(cloud.heartbeats.at(-1)!.instance, instanceId, 'the same instance id after a restart');
});

t.test('400 CLOCK_SKEW: healthz degraded with the skew, logged once; cleared when heartbeats are accepted', async (t) => {
  const cloud = await new FleetCloud().start();
  t.teardown(() => cloud.stop());
  cloud.refuse = { status: 400, code: 'CLOCK_SKEW', detail: 'clock skew 400 s: fix NTP on the edge', date: new Date(Date.now() - 400_000).toUTCString() };
  const d = new EdgeDaemon({ config: edgeConfig(cloud, tempDir(t)), recognizer: new FakeRecognizer(3), http: false });
  t.teardown(() => d.stop());
  await d.start();
  await waitFor(() => d.health().status === 'degraded', 'degraded');
  t.match(d.health().problems.join(), /clock off by (39\d|40\d) s: fix NTP/);
  cloud.refuse = null;
  await waitFor(() => d.health().status === 'ok', 'ok after an accepted heartbeat', 10_000, 50);
  t.equal(d.metrics.get('anpr_edge_heartbeats_total', { result: 'clock_skew' })! >= 1, true);
});

t.test('409 EDGE_ID_IN_USE later (another box took the id): capture stops, onFatal(78)', async (t) => {
  const cloud = await new FleetCloud().start();
  t.teardown(() => cloud.stop());
  cloud.lists.cameras = [cam('cam-1')];
  let fatal: [number, string] | null = null;
  const d = new EdgeDaemon({ config: edgeConfig(cloud, tempDir(t)), recognizer: new FakeRecognizer(3), http: false, onFatal: (code, m) => (fatal = [code, m]) });
  t.teardown(() => d.stop());
  await d.start();
  await waitFor(() => d.status().camera_states.some((c) => c.state === 'running'), 'cam-1 running');
  cloud.refuse = { status: 409, code: 'EDGE_ID_IN_USE', detail: 'edge gate-a is run by another box' };
  await waitFor(() => fatal !== null, 'fatal reported', 10_000, 50);
  t.equal(fatal![0], EX_CONFIG);
  t.match(fatal![1], /edge id gate-a is in use by another box.*own edge_id/);
  t.equal(d.cameraRuns().length, 0, 'capture stopped');
});

t.test('409 EDGE_ID_IN_USE at the first heartbeat: the process exits 78 with a fatal log, no camera started', async (t) => {
  const cloud = await new FleetCloud().start();
  t.teardown(() => cloud.stop());
  cloud.lists.cameras = [cam('cam-1')];
  cloud.refuse = { status: 409, code: 'EDGE_ID_IN_USE', detail: 'edge gate-a is run by another box' };
  const edgeDir = tempDir(t);
  const file = join(edgeDir, 'edge.json');
  writeFileSync(file, JSON.stringify({ edge_id: 'gate-a', data_dir: join(edgeDir, 'data'), cloud: { url: cloud.url, api_key: cloud.apiKey, heartbeat_s: 1 }, http: { port: 0 } }));
  const p = startEdgeProcess(file);
  t.teardown(() => p.kill());
  await p.exited;
  t.equal(p.child.exitCode, EX_CONFIG);
  t.match(p.output(), /edge id gate-a is in use by another box/);
  t.equal(cloud.heartbeats.length, 1);
});
