/**
 * `npm run bench [-- NAME…]`: runs the named benchmarks (default: cloud, outbox, recognition),
 * each in its own process, one after another. Every benchmark prints its figures against a
 * named baseline measured in the same run. `outbox-outage` (10 minutes) and `healthz-under-load`
 * (/healthz while one viewer floods exports, snapshots and uploads) run only when named.
 * The recognition benchmark uses ../shared/models as its mirror when that folder exists.
 * `live` is `anpr eval --live` on the dev photos (../shared/datasets/openalpr-dev, or the folder
 * in $ANPR_EVAL_DATASET): the real edge and cloud, stills and live side by side.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ALL = ['cloud', 'outbox', 'recognition', 'capture-latency', 'live', 'outbox-outage', 'healthz-under-load'];
const DEFAULT = ['cloud', 'outbox', 'recognition', 'capture-latency'];
ALL.push('crash-ingest', 'image-sweep'); // durability (docs/cloud-durability.md): run only when named; crash-ingest takes minutes
ALL.push('edge-heartbeats'); // issue 9: 200 edges' heartbeats every 5 s (~75 s); run only when named
ALL.push('barrier-latency'); // issue 10: plate first visible → barrier command on the synthetic gate (~3 min); run only when named
ALL.push('list-lookup'); // issue 10: access-list lookup with 100,000 entries (~20 s); run only when named
ALL.push('replicas'); // issue 12: two cloud replicas on one PostgreSQL, stream across them and kill -9 of one (~1 min); run only when named
const names = process.argv.slice(2).length ? process.argv.slice(2) : DEFAULT;
const unknown = names.filter((n) => !ALL.includes(n));
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; choose from ${ALL.join(', ')}`);
  process.exit(2);
}
const mirror = fileURLToPath(new URL('../../shared/models', import.meta.url));
let failed = 0;
const dataset = process.env.ANPR_EVAL_DATASET ?? fileURLToPath(new URL('../../shared/datasets/openalpr-dev', import.meta.url));
for (const name of names) {
  if (name === 'live') {
    console.log(`\n=== live ===`);
    const bin = fileURLToPath(new URL('../bin/anpr.js', import.meta.url));
    const r = existsSync(dataset) ? spawnSync(process.execPath, [bin, 'eval', '--live', '--dataset', dataset], { stdio: 'inherit' }) : { status: 2 };
    if (!existsSync(dataset)) console.error(`live: no dataset at ${dataset} (set ANPR_EVAL_DATASET)`);
    if (r.status !== 0) failed++;
    continue;
  }
  const file = fileURLToPath(new URL(`./${name}.ts`, import.meta.url));
  const args = name === 'recognition' && existsSync(mirror) ? ['--mirror', mirror] : [];
  console.log(`\n=== ${name} ===`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', file, ...args], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`${name}: exited ${r.status}`);
    failed++;
  }
}
process.exit(failed ? 1 : 0);
