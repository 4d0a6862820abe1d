/**
 * The cloud's own background work yields to requests: export pages take one turn of the
 * event loop at a time across all exports, and the tools it starts (ffmpeg, ffprobe) run below
 * it in the CPU scheduler.
 */
import t from 'tap';
import { backgroundTurn } from '../../cloud/limits/background-turns.js';
import { runTool } from '../../cloud/probes/run-tool.js';

const turn = () => new Promise<void>((r) => setImmediate(r));

t.test('background work gets one event-loop turn at a time, in the order it asked', async (t) => {
  const done: number[] = [];
  const all = [0, 1, 2].map((i) => backgroundTurn().then(() => done.push(i)));
  await turn();
  t.same(done, [0], 'one of three waiters ran on the first turn');
  await turn();
  t.same(done, [0, 1], 'the next on the next turn');
  await Promise.all(all);
  t.same(done, [0, 1, 2]);
});

t.test('a tool the cloud starts runs at a lower CPU priority than the service', async (t) => {
  // The shell waits until its niceness is no longer 0 (it is lowered just after the start), then prints it.
  const script = 'n() { cut -d" " -f19 /proc/$$/stat; }; while [ "$(n)" = 0 ]; do :; done; n';
  const r = await runTool('sh', ['-c', script], 5);
  t.notOk(r.timedOut, 'the niceness changed');
  t.equal(r.stdout.toString().trim(), '10');
});
