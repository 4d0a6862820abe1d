/**
 * kill -9 of the cloud during ingest (`npm run bench -- crash-ingest`): the full target of
 * test/cloud/durability-kill9.test.ts. The real `anpr cloud` is SIGKILLed BENCH_CRASH_KILLS
 * times (default 50) at seeded random moments while 4 clients ingest multipart events with a
 * frame and a crop; then every acknowledged event is checked (row + both images, byte for
 * byte) and every image file must belong to an event after the startup sweep.
 * Baseline: the target, 0 events lost and 0 orphans (before the sweep existed, 10 kills left
 * 26 orphan image files). ANPR_CRASH_SEED replays a run.
 */
import { runCrashIngest } from '../test/fixtures/crash-ingest.js';

const kills = Number(process.env.BENCH_CRASH_KILLS ?? 50);
const seed = Number(process.env.ANPR_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
console.log(`seed ${seed} (replay: ANPR_CRASH_SEED=${seed}), ${kills} kills`);
const t0 = Date.now();
const r = await runCrashIngest({
  kills,
  seed,
  onRound: (i, info) => {
    if ((i + 1) % 10 === 0) console.log(`  ${i + 1} kills, ${info.acked} acknowledged, mean restart ${info.restartMs} ms`);
  },
});
console.log(`kills:                ${r.kills} in ${((Date.now() - t0) / 1000).toFixed(0)} s (mean restart to healthy ${r.meanRestartMs} ms)`);
console.log(`requests:             ${r.requests} (${r.acked} acknowledged, ${r.cutOff} cut off by a kill and retried, ${r.refused503} refused 503 and retried)`);
console.log(`acknowledged lost:    ${r.lost.length}   (target 0)`);
console.log(`orphan image files:   ${r.orphans.length}   (target 0)`);
console.log(`phantom events:       ${r.phantoms.length}   (target 0)`);
console.log(`unexpected answers:   ${r.unexpected.length}   (target 0)`);
for (const x of [...r.lost, ...r.orphans, ...r.phantoms, ...r.unexpected].slice(0, 20)) console.log(`  ${x}`);
process.exit(r.lost.length || r.orphans.length || r.phantoms.length || r.unexpected.length ? 1 : 0);
