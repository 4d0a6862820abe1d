/** The sensors' time-indexed memory: order, bounds, and the window query against a brute-force filter. */
import t from 'tap';
import { ReadingBuffer } from '../../../edge/sensors/reading-buffer.js';
import { prng } from '../../fixtures/prng.js';

t.test('a clock that steps back keeps arrival order (stamped with the newest time)', async (t) => {
  const b = new ReadingBuffer<{ at: number; n: number }>();
  b.push({ at: 1000, n: 1 });
  t.same(b.push({ at: 400, n: 2 }), { at: 1000, n: 2 });
  b.push({ at: 1200, n: 3 });
  t.same(b.between(0, 5000).map((r) => r.n), [1, 2, 3]);
});

t.test('bounded by age and by count, oldest dropped first', async (t) => {
  const b = new ReadingBuffer<{ at: number }>({ keepMs: 1000, maxReadings: 3 });
  for (const at of [0, 100, 200]) b.push({ at });
  b.push({ at: 300 });
  t.same(b.between(0, 1e9).map((r) => r.at), [100, 200, 300], 'count');
  b.push({ at: 1250 });
  t.same(b.between(0, 1e9).map((r) => r.at), [300, 1250], 'age: older than keepMs before the newest');
  t.equal(b.size, 2);
  t.same(b.latest(), { at: 1250 });
});

t.test('between() agrees with a brute-force filter', async (t) => {
  const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1e9);
  t.comment(`FUZZ_SEED=${seed}`);
  const rand = prng(seed);
  const b = new ReadingBuffer<{ at: number }>({ keepMs: 1e9, maxReadings: 10_000 });
  const all: number[] = [];
  let at = 0;
  for (let i = 0; i < 2000; i++) {
    at += Math.floor(rand() * 3); // repeats included
    b.push({ at });
    all.push(at);
  }
  for (let q = 0; q < 500; q++) {
    const from = Math.floor(rand() * (at + 10)) - 5;
    const to = from + Math.floor(rand() * 50) - 5;
    const want = to >= from ? all.filter((x) => x >= from && x <= to) : [];
    const got = b.between(from, to).map((r) => r.at);
    if (JSON.stringify(got) !== JSON.stringify(want)) return t.fail(`between(${from}, ${to}) = ${got.length} readings, want ${want.length}`);
  }
  t.pass('500 windows agree');
});
