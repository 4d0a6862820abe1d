/**
 * `npm run bench [-- NAME…]`: runs the named benchmarks (default: cloud, outbox, recognition),
 * each in its own process, one after another. Every benchmark prints its figures against a
 * named baseline measured in the same run. `outbox-outage` (10 minutes) runs only when named.
 * The recognition benchmark uses ../shared/models as its mirror when that folder exists.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ALL = ['cloud', 'outbox', 'recognition', 'outbox-outage'];
const DEFAULT = ['cloud', 'outbox', 'recognition'];
const names = process.argv.slice(2).length ? process.argv.slice(2) : DEFAULT;
const unknown = names.filter((n) => !ALL.includes(n));
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; choose from ${ALL.join(', ')}`);
  process.exit(2);
}
const mirror = fileURLToPath(new URL('../../shared/models', import.meta.url));
let failed = 0;
for (const name of names) {
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
