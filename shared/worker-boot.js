// Worker threads start without the parent's tsx loader: register it, then load the
// TypeScript module named in workerData.entry. Plain JavaScript because nothing can
// compile this file before the loader exists.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.entry);
