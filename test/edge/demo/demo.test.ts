import t from 'tap';
import { runDemo } from '../../../edge/demo/demo.js';
import { FakeRecognizer } from '../../fixtures/fake-recognizer.js';
import { tempDir } from '../../fixtures/media.js';
import { join } from 'node:path';
import { readFileSync, statSync } from 'node:fs';
import { withCloudData } from '../../../cli/cloud-data.js';

t.test('the demo wires clip -> RTSP -> edge -> cloud -> WebSocket and MQTT (recognizer injected)', async (t) => {
  const lines: string[] = [];
  const dataDir = tempDir(t, 'anpr-demo-');
  const summary = await runDemo({ dataDir, recognizer: new FakeRecognizer(4), maxEvents: 3, durationS: 50, print: (l) => lines.push(l) });
  t.ok(summary.events.length >= 3, `${summary.events.length} events printed from the cloud's WebSocket`);
  const e = summary.events[0];
  t.equal(e.camera, 'gate-1');
  t.match(e.plate, /^PGATE1N\d+$/);
  t.ok(e.latencyMs !== null && e.latencyMs >= 0, 'end-to-end latency measured');
  t.ok(summary.mqttMessages >= 1, 'MQTT got events too');
  t.ok(lines.some((l) => l.startsWith('PGATE1N1 ')), 'a printed event line');
  t.ok(lines.some((l) => /camera streaming at rtsp:\/\/127\.0\.0\.1/.test(l)));
  // The edge and its camera are the cloud's (the edge's own file lists no camera: the events
  // above came from the camera it took from the cloud).
  await withCloudData(join(dataDir, 'cloud'), async (d) => {
    t.same((await d.edges.list()).map((e) => e.id), ['demo-edge'], 'the demo registered its edge, and only it');
    t.ok((await d.edges.get('demo-edge'))!.created_at, 'registered');
    const cams = d.db.prepare("SELECT id, edge_id, json_extract(body, '$.rtsp_url') AS url FROM config_items WHERE kind = 'cameras'").all() as Array<{ id: string; edge_id: string; url: string }>;
    t.match(cams, [{ id: 'gate-1', edge_id: 'demo-edge', url: /^rtsp:\/\/127\.0\.0\.1:\d+\/gate-1$/ }], 'its camera is in the cloud, on its edge');
    t.equal(cams.length, 1);
    t.same((await d.users.list()).map((u) => u.username), ['admin'], 'no user besides the demo\'s admin');
  });
  const signIn = lines.find((l) => l.startsWith('demo: web app sign-in admin / '));
  t.ok(signIn, 'it says how to sign in');
  const password = readFileSync(join(dataDir, 'demo-admin-password'), 'utf8').trim();
  t.ok(signIn!.includes(password), 'with the password it keeps in its data dir');
  t.equal(statSync(join(dataDir, 'demo-admin-password')).mode & 0o777, 0o600, 'readable by its owner only');
});
