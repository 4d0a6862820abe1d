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
});
