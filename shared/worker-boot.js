// Starts a worker thread on the module named in workerData.entry (a `.ts` URL, as the sources
// name it). Worker threads do not inherit the parent's loader, so:
//  - in the compiled build (dist/), the `.js` beside the named `.ts` is loaded as is: no tsx,
//    which a production install does not have;
//  - in a dev checkout (sources only), tsx's loader is registered first, then the `.ts` loaded.
// Plain JavaScript because nothing can compile this file before the loader exists; the build
// copies it to dist/shared/.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { workerData } from 'node:worker_threads';

const entry = String(workerData.entry);
const compiled = entry.replace(/\.ts$/, '.js');
if (compiled !== entry && existsSync(fileURLToPath(compiled)) && !existsSync(fileURLToPath(entry))) {
  await import(compiled);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(entry);
}
