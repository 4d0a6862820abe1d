/**
 * A stand-in inference worker speaking session-worker.ts's protocol: `load` remembers the key,
 * `run` echoes its feeds, except a feed whose first value is 13, on which it spins forever
 * (what a wedged native call looks like from the host: no answer, ever).
 */
import { parentPort } from 'node:worker_threads';
import type { WorkerRequest, WorkerResponse } from '../../../edge/inference/session-worker.js';

const port = parentPort!;
const loaded = new Set<string>();
port.on('message', (req: WorkerRequest) => {
  let res: WorkerResponse;
  if (req.op === 'load') {
    loaded.add(req.key);
    res = { id: req.id, ok: true, result: { inputs: [{ name: 'x' }], outputs: [{ name: 'x' }], provider: 'cpu' } };
  } else if (req.op === 'run') {
    if (!loaded.has(req.key)) res = { id: req.id, ok: false, error: { message: `model '${req.key}' is not loaded` } };
    else {
      if (req.feeds.x.data[0] === 13) for (;;);
      res = { id: req.id, ok: true, result: req.feeds };
    }
  } else {
    loaded.delete(req.key);
    res = { id: req.id, ok: true, result: undefined };
  }
  port.postMessage(res);
});
