import t from 'tap';
import { runDemo } from '../../../edge/demo/demo.js';
import { FakeRecognizer } from '../../fixtures/fake-recognizer.js';
import { tempDir } from '../../fixtures/media.js';

t.test('the demo wires clip -> RTSP -> edge -> cloud -> WebSocket and MQTT (recognizer injected)', async (t) => {
  const lines: string[] = [];
  const summary = await runDemo({ dataDir: tempDir(t, 'anpr-demo-'), recognizer: new FakeRecognizer(4), maxEvents: 3, durationS: 50, print: (l) => lines.push(l) });
  t.ok(summary.events.length >= 3, `${summary.events.length} events printed from the cloud's WebSocket`);
  const e = summary.events[0];
  t.equal(e.camera, 'gate-1');
  t.match(e.plate, /^PGATE1N\d+$/);
  t.ok(e.latencyMs !== null && e.latencyMs >= 0, 'end-to-end latency measured');
  t.ok(summary.mqttMessages >= 1, 'MQTT got events too');
  t.ok(lines.some((l) => l.startsWith('PGATE1N1 ')), 'a printed event line');
  t.ok(lines.some((l) => /camera streaming at rtsp:\/\/127\.0\.0\.1/.test(l)));
});
