/**
 * The cloud exporter in a fleet (issue 9): every ingest names this installation
 * (X-Edge-Instance), and a 409 EDGE_ID_IN_USE (the cloud refused this box, not the event) is
 * retried, never counted delivered, while a 409 duplicate still is.
 */
import t from 'tap';
import { Outbox } from '../../../edge/outbox/outbox.js';
import { DeliveryWorker } from '../../../edge/exporters/dispatcher.js';
import { CloudRestExporter, classifyHttp } from '../../../edge/exporters/rest.js';
import { IngestServer } from '../../fixtures/ingest-server.js';
import { tempDir } from '../../fixtures/media.js';
import { sampleEvent, fakeJpeg } from '../../fixtures/events.js';
import { waitFor } from '../../fixtures/wait.js';

t.test('classify: 409 EDGE_ID_IN_USE retries, a duplicate 409 is delivered', async (t) => {
  t.equal(classifyHttp(409, JSON.stringify({ detail: 'edge gate-a is run by another box', error_code: 'EDGE_ID_IN_USE' }), undefined).status, 'retry');
  t.equal(classifyHttp(409, JSON.stringify({ detail: 'Event with ID x already exists', error_code: 'CONFLICT' }), undefined).status, 'delivered');
});

t.test('ingest carries X-Edge-Instance; events refused for the instance stay in the outbox until accepted', async (t) => {
  const server = await new IngestServer().start();
  t.teardown(() => server.stop());
  const outbox = new Outbox({ dataDir: tempDir(t), exporters: ['cloud'] });
  const exporter = new CloudRestExporter({ url: server.url, apiKey: 'k-123', instanceId: 'inst-1234-abcd' });
  await exporter.start();
  const worker = new DeliveryWorker(outbox, exporter, { backoff: { initialMs: 50, maxMs: 200 }, pollMs: 50 });
  t.teardown(async () => {
    await worker.stop();
    await exporter.stop();
    outbox.close();
  });
  let refuse = true;
  server.override = () => (refuse ? { status: 409, body: JSON.stringify({ detail: 'edge e is run by another box', error_code: 'EDGE_ID_IN_USE' }) } : null);
  outbox.add(sampleEvent(1, 'cam-1'), { frame: fakeJpeg(1) });
  worker.start();
  await waitFor(() => server.requests >= 3, 'refused and retried');
  t.equal(outbox.stats().byExporter.cloud.delivered, 0, 'not counted delivered');
  t.equal(outbox.depth().cloud.pending, 1, 'still pending in the outbox');
  refuse = false;
  await waitFor(() => server.accepted.length === 1, 'accepted once the cloud takes it');
  t.equal(server.accepted[0].headers['x-edge-instance'], 'inst-1234-abcd');
});
