import t from 'tap';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { InferenceHost, resolveProviders, providerAvailable } from '../../../edge/inference/index.js';
import { onnxModel } from '../recognize/fixtures.js';

const softmax = onnxModel([{ op: 'Softmax', inputs: ['x'], outputs: ['y'], ints: { axis: 1 } }], [['x', 'float', ['N', 4]]], [['y', 'float', ['N', 4]]]);

function capture() {
  const lines: { level: number; msg: string }[] = [];
  const stream = new Writable({
    write(chunk, _e, cb) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

t.test('a model built for the test runs in the worker and batches', async (t) => {
  const host = new InferenceHost();
  t.teardown(() => host.close());
  const m = await host.load('softmax', softmax);
  t.equal(m.provider, 'cpu');
  t.same(m.inputs.map((i) => i.name), ['x']);
  const x = new Float32Array([0, 0, 0, 0, 1, 2, 3, 4]);
  const out = await m.run({ x: { type: 'float32', dims: [2, 4], data: x } });
  t.same(out.y.dims, [2, 4]);
  const y = out.y.data as Float32Array;
  t.ok(Math.abs(y[0] - 0.25) < 1e-6, 'uniform row');
  t.ok(y[7] > y[6] && y[6] > y[5], 'softmax ordering');
  t.ok(Math.abs(y[4] + y[5] + y[6] + y[7] - 1) < 1e-5);
});

t.test('the event loop keeps turning while models run', async (t) => {
  const host = new InferenceHost();
  t.teardown(() => host.close());
  const m = await host.load('softmax', softmax);
  let ticks = 0;
  const timer = setInterval(() => ticks++, 0);
  const big = new Float32Array(4 * 200_000).fill(1);
  const runs = Array.from({ length: 5 }, () => m.run({ x: { type: 'float32', dims: [200_000, 4], data: big.slice() } }));
  await Promise.all(runs);
  clearInterval(timer);
  t.ok(ticks > 0, `timers fired ${ticks} times during inference`);
});

t.test('an unavailable provider falls back to CPU with one log line', async (t) => {
  const { logger, lines } = capture();
  const host = new InferenceHost({ logger, providers: ['cuda', 'tensorrt', 'cpu'] });
  t.teardown(() => host.close());
  t.equal(providerAvailable('cpu'), true);
  const cuda = providerAvailable('cuda');
  const a = await host.load('a', softmax);
  await host.load('b', softmax);
  t.equal(a.provider, cuda ? 'cuda' : 'cpu');
  if (!cuda) {
    const warns = lines.filter((l) => l.level === 40 && /cuda/.test(l.msg));
    t.equal(warns.length, 1, 'one line for cuda, however many models');
    t.match(warns[0].msg, /not available.*using (tensorrt|cpu)/);
  }
  t.same(resolveProviders(['cpu', 'cpu']).use, ['cpu']);
  t.equal(resolveProviders(undefined).use.at(-1), 'cpu');
});

t.test('errors come back as rejections, and a closed host refuses work', async (t) => {
  const host = new InferenceHost();
  const m = await host.load('softmax', softmax);
  await t.rejects(m.run({ wrong: { type: 'float32', dims: [1, 4], data: new Float32Array(4) } }), { code: 'INTERNAL_ERROR' });
  await t.rejects(host.load('broken', new Uint8Array([1, 2, 3])), /inference failed/);
  await host.close();
  await t.rejects(m.run({ x: { type: 'float32', dims: [1, 4], data: new Float32Array(4) } }), { code: 'SERVICE_UNAVAILABLE' });
});

t.test('a dead worker is replaced and its models reloaded before the next run', async (t) => {
  const { logger, lines } = capture();
  const host = new InferenceHost({ logger });
  t.teardown(() => host.close());
  const m = await host.load('softmax', softmax);
  const x = () => ({ x: { type: 'float32' as const, dims: [1, 4], data: new Float32Array([1, 1, 1, 1]) } });
  await m.run(x());
  // Kill the worker as a native crash would.
  const worker = (host as unknown as { worker: import('node:worker_threads').Worker }).worker;
  await worker.terminate();
  const out = await m.run(x());
  t.ok(Math.abs((out.y.data as Float32Array)[0] - 0.25) < 1e-6, 'the same handle works again');
  t.ok(lines.some((l) => /reloading its models/.test(l.msg)));
});

t.test('a run that never answers times out and restarts the worker; the models are reloaded and serve again', async (t) => {
  const { logger, lines } = capture();
  const host = new InferenceHost({ logger, runTimeoutMs: 300, workerEntry: new URL('./wedged-worker.ts', import.meta.url) });
  t.teardown(() => host.close());
  const m = await host.load('m', 'unused');
  const x = (v: number) => ({ x: { type: 'float32' as const, dims: [1], data: new Float32Array([v]) } });
  t.equal((await m.run(x(1))).x.data[0], 1);
  // A liveness bound far above the timeout: before the fix the wedged run never settled.
  const bounded = <T>(p: Promise<T>) => Promise.race([p, new Promise<never>((_, rej) => setTimeout(() => rej(new Error('no answer within 20 s')), 20_000).unref())]);
  const wedged = m.run(x(13));
  const queued = m.run(x(2));
  await t.rejects(bounded(wedged), { code: 'SERVICE_UNAVAILABLE', message: /inference timed out/ });
  await t.rejects(bounded(queued), { code: 'SERVICE_UNAVAILABLE' }, 'the requests queued behind it fail too, not hang');
  t.equal((await bounded(m.run(x(3)))).x.data[0], 3, 'the same handle works on a fresh worker (its model reloaded)');
  t.ok(lines.some((l) => /answered nothing in time; restarting/.test(l.msg)));
  t.ok(lines.some((l) => /reloading its models/.test(l.msg)));
});
