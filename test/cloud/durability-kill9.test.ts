/**
 * The cloud's crash target: kill -9 of the real `anpr cloud` at seeded random moments during
 * concurrent multipart ingest loses no acknowledged event, and no image file outlives the
 * startup sweep without an event. The seed is printed; ANPR_CRASH_SEED=<seed> replays a run.
 * ANPR_CRASH_KILLS sets the number of kills (10 here, to fit tap's limit on a loaded 2-core
 * machine; `npm run bench -- crash-ingest` runs 50).
 */
import t from 'tap';
import { runCrashIngest } from '../fixtures/crash-ingest.js';

const seed = Number(process.env.ANPR_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
const kills = Number(process.env.ANPR_CRASH_KILLS ?? 10);

t.test(`kill -9 of the cloud during ingest, ${kills} times (seed ${seed}): 0 acknowledged events lost, 0 orphan images`, async (t) => {
  t.comment(`seed ${seed} (replay: ANPR_CRASH_SEED=${seed})`);
  const r = await runCrashIngest({ kills, seed, onRound: (i, info) => t.comment(`kill ${i + 1}: after ${info.delayMs} ms of ingest, ${info.acked} acknowledged so far`) });
  t.comment(`${r.requests} requests, ${r.acked} acknowledged, ${r.cutOff} cut off by a kill, ${r.refused503} refused 503, mean restart ${r.meanRestartMs} ms`);
  t.equal(r.kills, kills, 'every kill happened');
  t.ok(r.acked > kills, 'events were acknowledged between kills');
  t.ok(r.cutOff > 0, 'some requests were in flight at a kill');
  t.same(r.unexpected, [], 'no answer but 202, 409 or 503');
  t.same(r.lost, [], 'every acknowledged event is stored with both its images, byte for byte');
  t.same(r.orphans, [], 'no image file without an event after the startup sweep');
  t.same(r.phantoms, [], 'no stored event that no client was told about');
});
