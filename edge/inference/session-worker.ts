/**
 * The inference worker: owns every ONNX Runtime session of its host. onnxruntime-node runs a
 * session synchronously on the calling thread, so sessions live here and the main thread's
 * event loop stays free for capture, HTTP and MQTT while a model runs.
 */
import { parentPort } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import type { Provider, TensorLike, ValueInfo } from './types.js';

export type WorkerRequest =
  | { id: number; op: 'load'; key: string; model: string | Uint8Array; providers: Provider[]; intraOpThreads: number }
  | { id: number; op: 'run'; key: string; feeds: Record<string, TensorLike> }
  | { id: number; op: 'release'; key: string };

export type WorkerResponse =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: { message: string; stack?: string } };

export interface LoadResult {
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  provider: Provider;
  /** Set when the preferred providers failed and the session fell back to CPU. */
  fallbackReason?: string;
}

const sessions = new Map<string, ort.InferenceSession>();

function info(meta: readonly ort.InferenceSession.ValueMetadata[]): ValueInfo[] {
  return meta.map((m) => (m.isTensor ? { name: m.name, type: m.type, shape: [...m.shape] } : { name: m.name }));
}

async function create(model: string | Uint8Array, providers: Provider[], threads: number): Promise<ort.InferenceSession> {
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: providers,
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
    // No spin-waiting between ops: on a 2-core appliance the cores are shared with capture
    // (ffmpeg) and the other engines, and spinning threads only steal their time.
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  };
  return typeof model === 'string' ? ort.InferenceSession.create(model, options) : ort.InferenceSession.create(model, options);
}

async function load(req: Extract<WorkerRequest, { op: 'load' }>): Promise<LoadResult> {
  let session: ort.InferenceSession;
  let provider = req.providers[0] ?? 'cpu';
  let fallbackReason: string | undefined;
  try {
    session = await create(req.model, req.providers, req.intraOpThreads);
  } catch (e) {
    if (provider === 'cpu') throw e;
    fallbackReason = (e as Error).message.split('\n')[0];
    provider = 'cpu';
    session = await create(req.model, ['cpu'], req.intraOpThreads);
  }
  sessions.get(req.key)?.release().catch(() => {});
  sessions.set(req.key, session);
  return { inputs: info(session.inputMetadata), outputs: info(session.outputMetadata), provider, fallbackReason };
}

async function run(req: Extract<WorkerRequest, { op: 'run' }>): Promise<{ outputs: Record<string, TensorLike>; transfer: ArrayBuffer[] }> {
  const session = sessions.get(req.key);
  if (!session) throw new Error(`model '${req.key}' is not loaded`);
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(req.feeds)) feeds[name] = new ort.Tensor(t.type, t.data, t.dims);
  const results = await session.run(feeds);
  const outputs: Record<string, TensorLike> = {};
  const transfer: ArrayBuffer[] = [];
  for (const [name, t] of Object.entries(results)) {
    const data = t.data as TensorLike['data'];
    outputs[name] = { type: t.type as TensorLike['type'], dims: [...t.dims], data };
    if (data.buffer instanceof ArrayBuffer && !transfer.includes(data.buffer)) transfer.push(data.buffer);
  }
  return { outputs, transfer };
}

const port = parentPort!;
if (!parentPort) throw new Error('session-worker must run in a worker thread');

// One request at a time, in arrival order: a run never overtakes the load it needs.
let queue: Promise<void> = Promise.resolve();
port.on('message', (req: WorkerRequest) => {
  queue = queue.then(() => handle(req));
});

async function handle(req: WorkerRequest): Promise<void> {
  try {
    if (req.op === 'load') {
      port.postMessage({ id: req.id, ok: true, result: await load(req) } satisfies WorkerResponse);
    } else if (req.op === 'run') {
      const { outputs, transfer } = await run(req);
      port.postMessage({ id: req.id, ok: true, result: outputs } satisfies WorkerResponse, transfer);
    } else {
      await sessions.get(req.key)?.release();
      sessions.delete(req.key);
      port.postMessage({ id: req.id, ok: true, result: null } satisfies WorkerResponse);
    }
  } catch (e) {
    const err = e as Error;
    port.postMessage({ id: req.id, ok: false, error: { message: err.message, stack: err.stack } } satisfies WorkerResponse);
  }
}
