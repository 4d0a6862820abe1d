import t from 'tap';
import { connect, type MqttClient } from 'mqtt';
import { setTimeout as sleep } from 'node:timers/promises';
import { Outbox } from '../../../edge/outbox/outbox.js';
import { DeliveryWorker } from '../../../edge/exporters/dispatcher.js';
import { MqttExporter, renderTopic } from '../../../edge/exporters/mqtt.js';
import { startBroker, type LocalBroker } from '../../../edge/demo/mqtt-broker.js';
import { tempDir } from '../../fixtures/media.js';
import { sampleEvent } from '../../fixtures/events.js';
import { waitFor } from '../../fixtures/wait.js';
import { Metrics } from '../../../edge/daemon/metrics.js';

async function subscriber(url: string, topic: string): Promise<{ client: MqttClient; got: Array<{ topic: string; body: Record<string, unknown>; retain: boolean }> }> {
  const got: Array<{ topic: string; body: Record<string, unknown>; retain: boolean }> = [];
  const client = connect(url, { reconnectPeriod: 200 });
  client.on('message', (topic, payload, packet) => {
    let body: Record<string, unknown>;
    try { body = JSON.parse(payload.toString()); } catch { body = { raw: payload.toString() }; }
    got.push({ topic, body, retain: packet.retain });
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  // Subscribed once the broker's SUBACK is back: from then on it routes every publish here.
  await client.subscribeAsync(topic, { qos: 1 });
  return { client, got };
}

t.test('QoS 1 to the topic template, retained online status, offline on stop', async (t) => {
  const broker = await startBroker();
  t.teardown(() => broker.close());
  const sub = await subscriber(broker.url, 'anpr/#');
  t.teardown(() => sub.client.endAsync());
  const outbox = new Outbox({ dataDir: tempDir(t), exporters: ['mqtt'] });
  const ex = new MqttExporter({ url: broker.url, edgeId: 'edge-9' });
  await ex.start();
  const w = new DeliveryWorker(outbox, ex, { backoff: { initialMs: 50, maxMs: 200 }, pollMs: 50 });
  t.teardown(() => outbox.close());
  for (let i = 0; i < 5; i++) outbox.add(sampleEvent(i, 'gate-1', 'edge-9'));
  w.start();
  await waitFor(() => outbox.stats().byExporter.mqtt.delivered === 5, 'PUBACKs');
  await waitFor(() => sub.got.filter((m) => m.topic === 'anpr/edge-9/gate-1/events').length === 5, 'events at the subscriber');
  t.ok(sub.got.some((m) => m.topic === 'anpr/edge-9/status' && m.body.raw === 'online'), 'online status');
  t.equal(sub.got.find((m) => m.topic.endsWith('/events'))!.body.plate_text, sampleEvent(0).plate_text);
  await w.stop();
  await ex.stop();
  await waitFor(() => sub.got.some((m) => m.topic === 'anpr/edge-9/status' && m.body.raw === 'offline'), 'offline status');
  // A late subscriber sees the retained status.
  const late = await subscriber(broker.url, 'anpr/edge-9/status');
  t.teardown(() => late.client.endAsync());
  await waitFor(() => late.got.length > 0, 'retained status');
  t.equal(late.got[0].body.raw, 'offline');
  t.equal(late.got[0].retain, true);
});

t.test('the last will says offline when the edge vanishes', async (t) => {
  const broker = await startBroker();
  t.teardown(() => broker.close());
  const sub = await subscriber(broker.url, 'anpr/+/status');
  t.teardown(() => sub.client.endAsync());
  const ex = new MqttExporter({ url: broker.url, edgeId: 'edge-w' });
  await ex.start();
  await waitFor(() => sub.got.some((m) => m.body.raw === 'online'), 'online');
  // Cut the TCP connection without DISCONNECT, as a crash would.
  const client = (ex as unknown as { client: MqttClient }).client;
  client.options.reconnectPeriod = 0;
  client.stream.destroy();
  await waitFor(() => sub.got.some((m) => m.body.raw === 'offline'), 'last will');
  t.pass('offline published by the broker');
  await client.endAsync(true);
});

t.test('broker restarted mid-stream: nothing lost', async (t) => {
  let broker: LocalBroker = await startBroker();
  const port = broker.port;
  t.teardown(() => broker.close());
  const outbox = new Outbox({ dataDir: tempDir(t), exporters: ['mqtt'] });
  const ex = new MqttExporter({ url: broker.url, edgeId: 'edge-r' });
  await ex.start();
  const metrics = new Metrics();
  const w = new DeliveryWorker(outbox, ex, { backoff: { initialMs: 50, maxMs: 300 }, pollMs: 50, attemptTimeoutMs: 3000, metrics });
  t.teardown(async () => { await w.stop(); await ex.stop(); outbox.close(); });
  let sub = await subscriber(broker.url, 'anpr/edge-r/+/events');
  const received = new Set<string>();
  const collect = () => { for (const m of sub.got) received.add(String(m.body.event_id)); };
  w.start();
  const total = 60;
  const add = (from: number, to: number) => {
    for (let i = from; i < to; i++) outbox.add(sampleEvent(i, `cam-${i % 2}`, 'edge-r'));
    w.wake();
  };
  add(0, 26);
  await waitFor(() => outbox.stats().byExporter.mqtt.delivered >= 5, 'the stream under way');
  // Pause: what the first broker acknowledged reaches the first subscriber before it goes.
  await w.stop();
  const acked = outbox.stats().byExporter.mqtt.delivered;
  await waitFor(() => (collect(), received.size >= acked), 'the first subscriber has every acknowledged event');
  await sub.client.endAsync(true);
  await broker.close();
  const exClient = (ex as unknown as { client: MqttClient }).client;
  await waitFor(() => !exClient.connected, 'the exporter sees the broker gone');
  w.start();
  add(26, 40);
  await waitFor(() => (metrics.get('anpr_delivery_failures_total', { exporter: 'mqtt', kind: 'retry' }) ?? 0) >= 2, 'attempts refused while the broker is down');
  t.ok(outbox.stats().byExporter.mqtt.pending >= 14, 'the rest wait in the outbox');
  // Hold deliveries until the new subscriber is in place (a publish routed to no subscriber
  // would be acknowledged and lost to this test, not to the edge).
  await w.stop();
  broker = await startBroker(port);
  sub = await subscriber(broker.url, 'anpr/edge-r/+/events');
  w.start();
  add(40, total);
  await waitFor(() => outbox.stats().byExporter.mqtt.delivered === total, 'all acknowledged', 30_000);
  t.teardown(() => sub.client.endAsync());
  const ids = Array.from({ length: total }, (_, i) => sampleEvent(i, `cam-${i % 2}`, 'edge-r').event_id);
  // Every acknowledged event reaches a subscriber; wait for the last deliveries to arrive.
  await waitFor(() => (collect(), ids.every((id) => received.has(id))), 'every event at a subscriber', 10_000).catch(() => undefined);
  const missing = ids.filter((id) => !received.has(id));
  t.same(missing, [], 'every event reached a subscriber');
});

t.test('topic templates cannot be broken by data', async (t) => {
  t.equal(renderTopic('anpr/{edge_id}/{camera_id}/events', { edge_id: 'e', camera_id: 'a/b+#' }), 'anpr/e/a_b__/events');
});

t.test('an aborted publish (no PUBACK in time) resolves retry at once and leaves mqtt.js no copy to resend', async (t) => {
  const { createServer } = await import('node:net');
  // A broker that acknowledges the status topic and never an event.
  let publishes = 0;
  const server = createServer((s) => {
    let buf = Buffer.alloc(0);
    s.on('data', (b) => {
      buf = Buffer.concat([buf, b]);
      for (;;) {
        let len = 0, mul = 1, i = 1;
        for (; i < buf.length; i++) {
          len += (buf[i] & 0x7f) * mul;
          mul *= 128;
          if (!(buf[i] & 0x80)) break;
        }
        if (i >= buf.length || buf.length < i + 1 + len) return;
        const packet = buf.subarray(0, i + 1 + len);
        const body = packet.subarray(i + 1);
        buf = buf.subarray(i + 1 + len);
        const type = packet[0] >> 4;
        if (type === 1) s.write(Buffer.from([0x20, 0x02, 0x00, 0x00])); // CONNECT → CONNACK accepted
        if (type === 12) s.write(Buffer.from([0xd0, 0x00])); // PINGREQ → PINGRESP
        if (type === 3) {
          const topic = body.subarray(2, 2 + body.readUInt16BE(0)).toString();
          const id = body.subarray(2 + topic.length, 4 + topic.length);
          if (topic.endsWith('/status')) s.write(Buffer.concat([Buffer.from([0x40, 0x02]), id])); // PUBACK
          else publishes++;
        }
      }
    });
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const ex = new MqttExporter({ url: `mqtt://127.0.0.1:${(server.address() as { port: number }).port}`, edgeId: 'edge-ab' });
  await ex.start();
  t.teardown(() => ex.stop());
  const client = (ex as unknown as { client: MqttClient }).client;
  await waitFor(() => client.connected, 'connected');
  const outbox = new Outbox({ dataDir: tempDir(t), exporters: ['mqtt'] });
  t.teardown(() => outbox.close());
  outbox.add(sampleEvent(1, 'gate-1', 'edge-ab'));
  const head = outbox.heads('mqtt')[0];
  const abort = new AbortController();
  const result = ex.deliver(head, { frame: null, crop: null }, { signal: abort.signal });
  await waitFor(() => publishes === 1, 'the publish reached the broker');
  await waitFor(() => Object.keys(client.outgoing).length === 1, 'the status publish acknowledged');
  t.equal(Object.keys(client.outgoing).length, 1, 'mqtt.js holds the event for a resend until PUBACK');
  abort.abort(new Error('no acknowledgement within 300 ms'));
  const bounded = await Promise.race([result, sleep(20_000, undefined, { ref: false }).then(() => ({ status: 'still waiting' }))]);
  t.match(bounded, { status: 'retry', error: /aborted.*no acknowledgement/ });
  t.equal(Object.keys(client.outgoing).length, 0, 'dropped from the resend store: the outbox owns the retry');
});
