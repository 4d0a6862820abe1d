/**
 * InferenceHost: the one place the appliance runs ONNX models. Sessions live in a worker
 * thread (see session-worker.ts); requests are served in order, so one frame's models never
 * fight each other for the two cores. A crashed worker fails every pending request; the next
 * request starts a fresh worker, which first reloads every model still in use.
 *
 * Liveness: a worker that answers nothing for `runTimeoutMs` while a run is its oldest pending
 * request (`loadTimeoutMs` for a load) is taken as wedged: every pending request fails with
 * SERVICE_UNAVAILABLE, the worker is terminated and the next request starts a fresh one (as
 * after a crash). A camera loop therefore never waits on inference forever. (A native call
 * that ignores termination may leave its thread behind; the fresh worker serves regardless.)
 */
import { Worker } from 'node:worker_threads';
import { AppError } from '../../shared/errors.js';
import { silentLogger, type Logger } from '../../shared/log.js';
import { resolveProviders } from './providers.js';
import type { LoadResult, WorkerRequest, WorkerResponse } from './session-worker.js';
import type { LoadOptions, ModelHandle, ModelSource, Provider, TensorLike } from './types.js';

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void; op: WorkerRequest['op'] };

/** Distributes requests (without their id) over the union of WorkerRequest variants. */
type RequestBody = WorkerRequest extends infer R ? (R extends WorkerRequest ? Omit<R, 'id'> : never) : never;

export interface InferenceHostOptions {
  logger?: Logger;
  /** Default provider preference for models loaded without their own. */
  providers?: Provider[];
  intraOpThreads?: number;
  /** A run with no answer for this long restarts the worker (default 30 s). */
  runTimeoutMs?: number;
  /** A model load with no answer for this long restarts the worker (default 10 min: TensorRT builds engines at load). */
  loadTimeoutMs?: number;
  /** The worker module (default ./session-worker.ts); tests pass a stand-in speaking the same protocol. */
  workerEntry?: URL;
}

export class InferenceHost {
  private worker?: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly log: Logger;
  private readonly warned = new Set<string>();
  private closed = false;
  /** When the worker last answered (or was given work while idle). */
  private progressAt = 0;
  private stallTimer?: NodeJS.Timeout;
  /** Models in use, by key: replayed into a replacement worker. */
  private readonly loaded = new Map<string, Extract<RequestBody, { op: 'load' }>>();

  constructor(private readonly opts: InferenceHostOptions = {}) {
    this.log = (opts.logger ?? silentLogger).child({ component: 'inference' });
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(new URL('../../shared/worker-boot.js', import.meta.url), {
      workerData: { entry: (this.opts.workerEntry ?? new URL('./session-worker.ts', import.meta.url)).href },
      // The worker must not keep a finished CLI alive; pending requests hold it via ref().
      stdout: false,
      stderr: false,
    });
    w.unref();
    w.on('message', (msg: WorkerResponse) => {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      this.progressAt = Date.now();
      if (this.pending.size === 0) w.unref();
      if (msg.ok) p.resolve(msg.result);
      else p.reject(new AppError('INTERNAL_ERROR', `inference failed: ${msg.error.message}`));
    });
    const fail = (err: Error) => {
      // A worker already retired (timed out, closed) has had its requests failed; the pending ones are its successor's.
      if (this.worker !== w) return;
      this.worker = undefined;
      this.failPending(err);
    };
    w.on('error', (e) => {
      this.log.error({ err: e }, 'inference worker crashed');
      fail(new AppError('INTERNAL_ERROR', `inference worker crashed: ${e.message}`, { cause: e }));
    });
    w.on('exit', (code) => {
      if (!this.closed) this.log.warn({ code }, 'inference worker exited');
      fail(new AppError('SERVICE_UNAVAILABLE', `inference worker exited with code ${code}`));
    });
    this.worker = w;
    this.watchStalls();
    if (this.loaded.size > 0) {
      this.log.warn({ models: [...this.loaded.values()].map((l) => l.key) }, 'restarting the inference worker and reloading its models');
      // Queued ahead of the request that started this worker; the worker serves in order.
      for (const l of this.loaded.values()) {
        this.request({ ...l }).catch((e) => this.log.error({ err: e, model: l.key }, 'model reload failed'));
      }
    }
    return w;
  }

  private request<T>(body: RequestBody, transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.closed) return Promise.reject(new AppError('SERVICE_UNAVAILABLE', 'inference host is closed'));
    const w = this.ensureWorker();
    const id = this.nextId++;
    if (this.pending.size === 0) this.progressAt = Date.now();
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, op: body.op });
      w.ref();
      w.postMessage({ ...body, id } as WorkerRequest, transfer);
    });
  }

  /** Loads a model; an unavailable preferred provider falls back to CPU with one log line. */
  async load(name: string, source: ModelSource, opts: LoadOptions = {}): Promise<ModelHandle> {
    const { use, unavailable } = resolveProviders(opts.providers ?? this.opts.providers);
    for (const p of unavailable) this.warnOnce(`unavailable:${p}`, `execution provider '${p}' is not available in this onnxruntime-node build; using ${use[0]}`);
    const key = `${name}#${this.nextId}`;
    const load = { op: 'load', key, model: source, providers: use, intraOpThreads: opts.intraOpThreads ?? this.opts.intraOpThreads ?? 2 } as const;
    const res = await this.request<LoadResult>(load);
    this.loaded.set(key, load);
    if (res.fallbackReason) this.warnOnce(`fallback:${use[0]}`, `execution provider '${use[0]}' failed (${res.fallbackReason}); using cpu`);
    this.log.debug({ model: name, provider: res.provider }, 'model loaded');
    return {
      name,
      inputs: res.inputs,
      outputs: res.outputs,
      provider: res.provider,
      run: (feeds) => {
        const transfer: ArrayBuffer[] = [];
        for (const t of Object.values(feeds)) {
          // Only whole, unshared buffers are transferred; views into a larger buffer are copied.
          if (t.data.buffer instanceof ArrayBuffer && t.data.byteOffset === 0 && t.data.byteLength === t.data.buffer.byteLength && !transfer.includes(t.data.buffer)) {
            transfer.push(t.data.buffer);
          }
        }
        return this.request<Record<string, TensorLike>>({ op: 'run', key, feeds }, transfer);
      },
      release: () => {
        this.loaded.delete(key);
        return this.request<void>({ op: 'release', key });
      },
    };
  }

  private failPending(err: Error): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(err);
  }

  /** Restarts a worker whose oldest request went unanswered past its limit (see the module's guarantees). */
  private watchStalls(): void {
    if (this.stallTimer) return;
    const run = this.opts.runTimeoutMs ?? 30_000;
    const load = this.opts.loadTimeoutMs ?? 600_000;
    this.stallTimer = setInterval(() => {
      const head = this.pending.values().next().value;
      const w = this.worker;
      if (!head || !w) return;
      const limit = head.op === 'load' ? load : run;
      const waited = Date.now() - this.progressAt;
      if (waited <= limit) return;
      this.log.error({ op: head.op, waitedMs: waited, pending: this.pending.size }, 'inference worker answered nothing in time; restarting it');
      this.worker = undefined;
      this.failPending(new AppError('SERVICE_UNAVAILABLE', `inference timed out: no answer within ${limit} ms (${head.op}); the worker is restarted`));
      void w.terminate().catch(() => {});
    }, Math.max(20, Math.min(1000, run / 4)));
    this.stallTimer.unref();
  }

  private warnOnce(key: string, msg: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.log.warn(msg);
  }

  /** Stops the worker; pending requests fail. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.stallTimer) clearInterval(this.stallTimer);
    const w = this.worker;
    this.worker = undefined;
    this.failPending(new AppError('SERVICE_UNAVAILABLE', 'inference host is closed'));
    if (w) await w.terminate();
  }
}
