/**
 * The gate's decision per read (edge/access/gate.ts): lists and the zone's own arrays through one
 * matcher, deny over allow, watch alerts, open only where a barrier acts and for its directions,
 * one relay pulse per pass, a dead relay an alert (never a hang), lists kept on disk.
 */
import t from 'tap';
import type { Test } from 'tap';
import { createServer } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Gate, type Pass } from '../../../edge/access/gate.js';
import { parseEdgeConfig } from '../../../edge/config/load.js';
import { Metrics } from '../../../edge/daemon/metrics.js';
import { ListSnapshot, type ListCreateInput } from '../../../shared/schemas/lists.js';
import type { ConfirmedRead } from '../../../edge/contracts.js';
import { tempDir } from '../../fixtures/media.js';
import { waitFor } from '../../fixtures/wait.js';

const W = 1000;
const square = [{ x: 0, y: 0 }, { x: W, y: 0 }, { x: W, y: W }, { x: 0, y: W }];
const box = (cx: number, cy: number, h = 20) => ({ x: cx - 40, y: cy - h / 2, width: 80, height: h });

function read(plate: string, over: Partial<ConfirmedRead> = {}): ConfirmedRead {
  const now = Date.now();
  return {
    cameraId: 'cam-1', plateText: plate, confidence: 0.95, rawCandidates: [], votes: null,
    plateBox: box(500, 500), frame: { data: Buffer.alloc(3), width: 1, height: 1, ts: now, seq: 1 } as never,
    firstSeenTs: now - 400, lastSeenTs: now, frameCount: 4, processingMs: 5, ...over,
  };
}

/** A list as the cloud serves it to the edge (ListSnapshot), from a create body. */
function snapshot(l: ListCreateInput & { id: string }): ListSnapshot {
  const now = new Date().toISOString();
  const entries = l.entries ?? [];
  return ListSnapshot.parse({ ...l, entries, entries_count: entries.length, version: '1', created_at: now, updated_at: now });
}

function gateWith(t: Test, cfg: Record<string, unknown>, lists: ListSnapshot[] = [], onRelayFailure?: (p: Pass) => void) {
  const dataDir = tempDir(t);
  if (lists.length) {
    mkdirSync(join(dataDir, 'lists'), { recursive: true });
    for (const l of lists) writeFileSync(join(dataDir, 'lists', `${l.id}.json`), JSON.stringify(l));
  }
  const config = parseEdgeConfig({ edge_id: 'gate-t', data_dir: dataDir, timezone: 'Europe/Berlin', ...cfg });
  const metrics = new Metrics();
  const gate = new Gate({ config, metrics, onRelayFailure: onRelayFailure ? (p) => onRelayFailure(p) : undefined });
  gate.start();
  gate.update(config);
  t.teardown(() => gate.close());
  return { gate, metrics };
}

async function relayServer(t: Test, status = 200, answer = true) {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      hits.push(req.url ?? '');
      if (answer) res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return { hits, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/pulse` };
}

const zone = (over: Record<string, unknown> = {}) => ({ id: 'z-in', camera_id: 'cam-1', type: 'enter', geometry: { type: 'polygon', points: square }, ...over });

t.test("a zone's own arrays go through the project's normaliser: a dash or an underscore does not bypass the deny list", async (t) => {
  const { gate } = gateWith(t, { zones: [zone({ allow: ['AB-123', 'CD 456'], deny: ['XY_999', 'AB–123'] })] });
  t.match(gate.decide(read('AB123'))!.decision, { action: 'deny', list: { type: 'deny' } }, 'deny wins over allow, en dash and all');
  t.match(gate.decide(read('XY-999'))!.decision, { action: 'deny' }, 'an underscore in the list, a dash in the read');
  t.match(gate.decide(read('cd456'))!.decision, { action: 'open', list: { type: 'allow' }, distance: 0 });
  t.match(gate.decide(read('ZZ111'))!.decision, { action: 'none', list: null, alert: false });
  const monitor = gateWith(t, { zones: [zone({ type: 'monitor', allow: ['CD456'] })] }).gate;
  t.match(monitor.decide(read('CD456'))!.decision, { action: 'none', list: { type: 'allow' } }, 'a monitor zone with no barrier opens nothing');
  t.equal(monitor.decide(read('CD456', { plateBox: box(1200, 500) })), null, 'outside every polygon: no decision, no event');
});

t.test('synced lists from disk: deny over allow, watch alerts but never opens, camera scope', async (t) => {
  const lists = [
    snapshot({ id: 'staff', name: 'Staff', type: 'allow', entries: [{ plate: 'AB123', label: 'Alice' }, { plate: 'WA777' }, { plate: 'BOTH1' }] }),
    snapshot({ id: 'banned', name: 'Banned', type: 'deny', entries: [{ plate: 'BOTH1' }] }),
    snapshot({ id: 'stolen', name: 'Stolen', type: 'watch', entries: [{ plate: 'WA777' }, { plate: 'ZZ999' }] }),
    snapshot({ id: 'other-cam', name: 'Lane 2', type: 'allow', camera_ids: ['cam-2'], entries: [{ plate: 'CAM2X' }] }),
  ];
  const { gate, metrics } = gateWith(t, { zones: [zone()] }, lists);
  t.match(gate.decide(read('AB 123'))!.decision, { action: 'open', list: { id: 'staff' }, entry_label: 'Alice', matched_plate: 'AB123', alert: false });
  t.match(gate.decide(read('BOTH1'))!.decision, { action: 'deny', list: { id: 'banned' } });
  t.match(gate.decide(read('WA777'))!.decision, { action: 'open', alert: true }, 'allowed and watched: opens, and alerts');
  t.match(gate.decide(read('ZZ999'))!.decision, { action: 'alert', alert: true, list: { id: 'stolen' } }, 'watch only: alerts, opens nothing');
  t.match(gate.decide(read('CAM2X'))!.decision, { action: 'none' }, "another camera's list does not apply");
  t.equal(metrics.get('anpr_access_decisions_total', { camera: 'cam-1', action: 'open' }), 2);
  t.same(gate.lists.versions().map((v) => v.id), ['banned', 'other-cam', 'staff', 'stolen']);
});

t.test('barriers: one pulse per pass, only for open, only for their directions; a dead relay is an alert, not a hang', async (t) => {
  const ok = await relayServer(t);
  const lists = [snapshot({ id: 'staff', name: 'Staff', type: 'allow', entries: [{ plate: 'AB123' }] }), snapshot({ id: 'banned', name: 'Banned', type: 'deny', entries: [{ plate: 'XY999' }] })];
  // A line across the lane, walked left to right; "in" is below it (towards the camera).
  const line = { id: 'lane', camera_id: 'cam-1', type: 'enter', geometry: { type: 'line', points: [{ x: 0, y: 500 }, { x: W, y: 500 }] }, in_side: 'right' };
  const { gate, metrics } = gateWith(t, {
    zones: [line],
    sensors: [{ id: 'barrier-in', type: 'barrier', camera_id: 'cam-1', config: { relay: { kind: 'http', url: ok.url, timeout_ms: 1400 }, pulse_duration_ms: 100, directions: ['in'] } }],
  }, lists);
  const incoming = { path: { first: box(500, 200), last: box(500, 800) } };
  const outgoing = { path: { first: box(500, 800), last: box(500, 200) } };

  const pass = gate.decide(read('AB123', incoming))!;
  t.match(pass.decision, { action: 'open', direction: 'in' });
  t.equal(pass.barriers.length, 1);
  gate.stamp(pass, read('AB123'));
  t.ok(pass.decision.latency_ms! >= 400, 'latency from the plate first seen');
  gate.command(pass, read('AB123'), 'pass-1');
  gate.command(pass, read('AB123'), 'pass-1');
  await waitFor(() => ok.hits.length >= 1, 'the relay pulsed');
  await waitFor(() => (metrics.get('anpr_barrier_commands_total', { sensor: 'barrier-in', result: 'ok' }) ?? 0) >= 1, 'the command counted');
  t.equal(ok.hits.length, 1, 'the same pass never pulses twice');

  const out = gate.decide(read('AB123', outgoing))!;
  t.match(out.decision, { action: 'none', direction: 'out' }, 'an in-only barrier does not open for a car going out, even in an enter zone');
  t.equal(out.barriers.length, 0);
  const denied = gate.decide(read('XY999', incoming))!;
  t.match(denied.decision, { action: 'deny' });
  t.equal(denied.barriers.length, 0, 'a denied plate sends nothing to the barrier');
  const still = gate.decide(read('AB123'))!;
  t.match(still.decision, { action: 'none', direction: null }, 'no motion, no direction: an in-only barrier does not guess');

  // A relay that never answers: retried briefly, then an alert; the gate goes on.
  const dead = await relayServer(t, 200, false);
  const failures: Pass[] = [];
  const d = gateWith(t, { sensors: [{ id: 'barrier-dead', type: 'barrier', camera_id: 'cam-1', config: { relay: { kind: 'http', url: dead.url, timeout_ms: 300 } } }] }, lists, (p) => failures.push(p));
  const p2 = d.gate.decide(read('AB123'))!;
  t.match(p2.decision, { action: 'open' });
  const t0 = Date.now();
  d.gate.command(p2, read('AB123'), 'pass-2');
  await waitFor(() => failures.length === 1, 'the failure reported', 10_000);
  t.ok(Date.now() - t0 < 5000, 'within the relay deadline');
  t.ok(dead.hits.length >= 1, 'the relay was tried');
});
