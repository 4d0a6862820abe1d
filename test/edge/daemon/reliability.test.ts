/**
 * Reliability against real processes: the real `anpr cloud`, the real edge daemon (with the
 * fake recognizer so the event rate does not depend on model speed), a real ffmpeg per camera.
 */
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { tempDir, makeClip } from '../../fixtures/media.js';
import { waitFor } from '../../fixtures/wait.js';
import { freePort, createApiKey, startCloudProcess, startEdgeProcess } from '../../fixtures/processes.js';

const dir = tempDir(t, 'anpr-rel-');
const clip = makeClip(dir, { seconds: 3, size: '160x120', rate: 10 });

function writeConfig(name: string, cloudUrl: string, apiKey: string, dataDir: string): string {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify({
    edge_id: name,
    data_dir: dataDir,
    cloud: { url: cloudUrl, api_key: apiKey, sync_config: false },
    cameras: ['cam-a', 'cam-b'].map((id) => ({ id, rtsp_url: clip, fps: 6, resolution: { width: 160, height: 120 } })),
    delivery: { initial_backoff_ms: 100, max_backoff_ms: 1000 },
    http: { port: 0 },
    log_level: 'warn',
  }));
  return file;
}

/** Events committed to the edge's outbox so far (0 before it exists). */
const edgeEventCount = (dataDir: string) => {
  try {
    return edgeEvents(dataDir).length;
  } catch {
    return 0;
  }
};
const edgeEvents = (dataDir: string) => {
  const db = new Database(join(dataDir, 'outbox.db'), { readonly: true });
  try {
    return db.prepare('SELECT e.seq, e.event_id, e.camera_id, d.state FROM events e JOIN deliveries d ON d.event_seq = e.seq AND d.exporter = ? ORDER BY e.seq').all('cloud') as Array<{ seq: number; event_id: string; camera_id: string; state: string }>;
  } finally {
    db.close();
  }
};
const cloudEvents = (cloudDir: string) => {
  const db = new Database(join(cloudDir, 'anpr.db'), { readonly: true });
  try {
    return db.prepare('SELECT event_id, camera_id FROM events ORDER BY seq').all() as Array<{ event_id: string; camera_id: string }>;
  } finally {
    db.close();
  }
};

/** Every committed edge event at the cloud exactly once, in edge order per camera: what is wrong, if anything. */
function deliveryProblems(edge: ReturnType<typeof edgeEvents>, cloud: ReturnType<typeof cloudEvents>) {
  const at = new Map<string, number>();
  cloud.forEach((c, i) => { if (!at.has(c.event_id)) at.set(c.event_id, i); });
  const outOfOrder: string[] = [];
  for (const cam of ['cam-a', 'cam-b']) {
    const order = edge.filter((e) => e.camera_id === cam && at.has(e.event_id)).map((e) => at.get(e.event_id)!);
    if (order.some((v, i) => i > 0 && v < order[i - 1])) outOfOrder.push(cam);
  }
  return {
    missingAtCloud: edge.filter((e) => !at.has(e.event_id)).map((e) => e.event_id),
    storedTwice: cloud.length - new Set(cloud.map((c) => c.event_id)).size,
    notFromEdge: cloud.filter((c) => !edge.some((e) => e.event_id === c.event_id)).length,
    outOfOrder,
  };
}
const NO_PROBLEMS = { missingAtCloud: [], storedTwice: 0, notFromEdge: 0, outOfOrder: [] };

t.test('kill -9 of the edge at random moments while events flow: every committed event reaches the cloud exactly once', async (t) => {
  const cloudDir = join(dir, 'cloud-k');
  const port = await freePort();
  const cloud = await startCloudProcess(cloudDir, port);
  t.teardown(() => cloud.kill());
  const key = await createApiKey(cloudDir, 'edge-k');
  const dataDir = join(dir, 'edge-k');
  const cfg = writeConfig('edge-k', `http://127.0.0.1:${port}`, key, dataDir);
  const committedSoFar = () => {
    try {
      return edgeEvents(dataDir).length;
    } catch {
      return 0; // no outbox yet
    }
  };
  for (let round = 0; round < 3; round++) {
    const edge = startEdgeProcess(cfg, 2);
    t.teardown(() => edge.kill('SIGKILL'));
    // Killed at a random moment while events flow: after 2 to 4 more events are committed.
    const target = edgeEventCount(dataDir) + 2 + Math.floor(Math.random() * 3);
    await waitFor(() => edgeEventCount(dataDir) >= target, `round ${round}: events flowing`, 60_000, 20);
    await edge.kill('SIGKILL');
    t.equal(edge.child.signalCode, 'SIGKILL', `round ${round}: killed`);
  }
  const committed = edgeEvents(dataDir);
  t.ok(committed.length >= 5, `${committed.length} events committed across the kills`);
  // Restart and let it drain; then stop it cleanly.
  const edge = startEdgeProcess(cfg, 1000);
  t.teardown(() => edge.kill('SIGKILL'));
  await waitFor(() => edgeEvents(dataDir).every((e) => e.state !== 'pending'), 'outbox drained', 40_000, 200);
  await edge.kill('SIGTERM');
  const edgeAll = edgeEvents(dataDir);
  t.equal(edgeAll.filter((e) => e.state === 'dead').length, 0, 'no dead letters');
  t.same(deliveryProblems(edgeAll, cloudEvents(cloudDir)), NO_PROBLEMS, 'exactly once, in order per camera');
});

t.test('cloud down for a while, then back: everything buffered is delivered, in order per camera', async (t) => {
  const cloudDir = join(dir, 'cloud-o');
  const port = await freePort();
  let cloud = await startCloudProcess(cloudDir, port);
  t.teardown(() => cloud.kill());
  const key = await createApiKey(cloudDir, 'edge-o');
  const dataDir = join(dir, 'edge-o');
  const edge = startEdgeProcess(writeConfig('edge-o', `http://127.0.0.1:${port}`, key, dataDir), 2);
  t.teardown(() => edge.kill('SIGKILL'));
  await waitFor(() => { try { return cloudEvents(cloudDir).length >= 2; } catch { return false; } }, 'first events at the cloud', 30_000, 200);
  await cloud.kill('SIGTERM');
  const atOutage = edgeEvents(dataDir).length;
  await waitFor(() => edgeEvents(dataDir).filter((e) => e.state === 'pending').length >= 8, 'events buffered during the outage', 30_000, 200);
  t.ok(edgeEvents(dataDir).length > atOutage, 'the edge kept committing while the cloud was down');
  const buffered = new Set(edgeEvents(dataDir).filter((e) => e.state === 'pending').map((e) => e.seq));
  cloud = await startCloudProcess(cloudDir, port);
  await waitFor(() => edgeEvents(dataDir).filter((e) => buffered.has(e.seq)).every((e) => e.state === 'delivered'), 'the same edge process delivers its backlog', 40_000, 200);
  t.pass(`${buffered.size} buffered events delivered by the running edge`);
  await edge.kill('SIGTERM'); // stop producing; then drain what the last moments committed
  const final = startEdgeProcess(writeConfig('edge-o', `http://127.0.0.1:${port}`, key, dataDir), 1000);
  t.teardown(() => final.kill('SIGKILL'));
  await waitFor(() => edgeEvents(dataDir).every((e) => e.state === 'delivered'), 'everything delivered after the outage', 40_000, 200);
  await final.kill('SIGTERM');
  t.same(deliveryProblems(edgeEvents(dataDir), cloudEvents(cloudDir)), NO_PROBLEMS, 'exactly once, in order per camera');
});
