import t from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { Outbox } from '../../../edge/outbox/outbox.js';
import { tempDir } from '../../fixtures/media.js';
import { sampleEvent } from '../../fixtures/events.js';

const anpr = fileURLToPath(new URL('../../../bin/anpr.js', import.meta.url));
const run = (...args: string[]) => promisify(execFile)(process.execPath, [anpr, 'outbox', ...args]);

t.test('anpr outbox status | retry | replay on a stopped edge', async (t) => {
  const dir = tempDir(t);
  const ob = new Outbox({ dataDir: dir, exporters: ['cloud'] });
  const a = ob.add(sampleEvent(1));
  const b = ob.add(sampleEvent(2));
  ob.markDead('cloud', a, 'HTTP 400: bad plate');
  ob.markDelivered('cloud', b);
  ob.close();

  const st = JSON.parse((await run('status', '--data-dir', dir, '--json')).stdout);
  t.equal(st.events, 2);
  t.same(st.byExporter.cloud, { pending: 0, delivered: 1, dead: 1, oldestPendingAt: null });
  t.match(st.dead_letters[0].lastError, /bad plate/);
  t.match((await run('status', '--data-dir', dir)).stdout, /dead letters/);

  t.match((await run('retry', '--data-dir', dir)).stdout, /re-queued 1 deliveries/);
  t.match((await run('replay', '--data-dir', dir, '--exporter', 'cloud')).stdout, /queued 2 events for cloud/);
  const after = JSON.parse((await run('status', '--data-dir', dir, '--json')).stdout);
  t.equal(after.byExporter.cloud.pending, 2);
  await t.rejects(run('status', '--data-dir', tempDir(t)), /no outbox/);
  // A typo'd exporter would queue every event for nobody: refused, nothing written.
  await t.rejects(run('replay', '--data-dir', dir, '--exporter', 'junk'), /VALIDATION_ERROR.*unknown exporter 'junk' \(known: cloud\)/);
  t.same(Object.keys(JSON.parse((await run('status', '--data-dir', dir, '--json')).stdout).byExporter), ['cloud']);
});

t.test('with the edge running, retry goes through the daemon (the one writer) and the dead letter is delivered', async (t) => {
  const { writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { EdgeDaemon } = await import('../../../edge/daemon/daemon.js');
  const { loadEdgeConfig } = await import('../../../edge/config/load.js');
  const { IngestServer } = await import('../../fixtures/ingest-server.js');
  const { FakeRecognizer } = await import('../../fixtures/fake-recognizer.js');
  const { freePort } = await import('../../fixtures/processes.js');
  const { waitFor } = await import('../../fixtures/wait.js');
  const dir = tempDir(t);
  const cloud = await new IngestServer().start();
  t.teardown(() => cloud.stop());
  let reject = true;
  cloud.override = () => (reject ? { status: 422, body: '{"detail":"not today"}' } : null);
  const file = join(dir, 'edge.json');
  writeFileSync(file, JSON.stringify({ edge_id: 'cli', data_dir: join(dir, 'data'), cloud: { url: cloud.url, api_key: 'k-12345678', sync_config: false }, http: { port: await freePort() } }));
  const d = new EdgeDaemon({ config: loadEdgeConfig(file), recognizer: new FakeRecognizer() });
  t.teardown(() => d.stop());
  await d.start();
  d.outbox.add(sampleEvent(5));
  await waitFor(() => d.outbox.stats().byExporter.cloud.dead === 1, 'dead-lettered');
  reject = false;
  const { stdout } = await run('retry', '--config', file);
  t.match(stdout, /re-queued 1 deliveries \(through the running daemon\)/);
  await waitFor(() => cloud.accepted.length === 1, 'delivered after retry');
  t.equal(d.outbox.stats().byExporter.cloud.delivered, 1);
  t.match((await run('replay', '--config', file, '--exporter', 'cloud')).stdout, /queued 1 events for cloud \(through the running daemon\)/);
  await waitFor(() => d.outbox.stats().byExporter.cloud.pending === 0, 'replayed');
  t.equal(cloud.accepted.length, 1, 'the replay was a 409 at the cloud: still exactly once');

  // The CLI reads the daemon's token like the daemon does; a wrong one, or a junk exporter, changes nothing.
  const before = JSON.stringify(d.outbox.stats().byExporter);
  const wrongToken = promisify(execFile)(process.execPath, [anpr, 'outbox', 'replay', '--config', file, '--exporter', 'cloud'], { env: { ...process.env, ANPR_EDGE_OPS_TOKEN: 'not-the-token-0123456789' } });
  await t.rejects(wrongToken, /AUTHENTICATION_FAILED/);
  await t.rejects(run('replay', '--config', file, '--exporter', 'junk'), /VALIDATION_ERROR.*unknown exporter 'junk'/);
  t.equal(JSON.stringify(d.outbox.stats().byExporter), before, 'outbox unchanged');
});
