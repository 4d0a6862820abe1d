/**
 * Time-boxed property test: random operations on the outbox against a plain in-memory model.
 * Invariants: heads() is, per camera, the oldest pending event; depth() matches the model;
 * events are never lost; images never exceed the budget and go oldest first.
 *
 * Each round has its own seed (the run's first seed, then +1...), printed at the start. A failing
 * round is replayed once at once with the same seed, and the failure names the command that
 * replays it alone: OUTBOX_PROPERTY_SEED=N npx tap test/edge/outbox/outbox-property.test.ts
 */
import t from 'tap';
import type { Test } from 'tap';
import { Outbox } from '../../../edge/outbox/outbox.js';
import { tempDir } from '../../fixtures/media.js';
import { sampleEvent, fakeJpeg } from '../../fixtures/events.js';
import { prng } from '../../fixtures/prng.js';

type State = 'pending' | 'delivered' | 'dead';

const FIXED = process.env.OUTBOX_PROPERTY_SEED;
if (FIXED !== undefined && !/^\d+$/.test(FIXED)) throw new Error(`OUTBOX_PROPERTY_SEED must be a whole number, not ${FIXED}`);

/** One round of 200 random operations from `seed`; the first broken invariant, or null. */
function round(t: Test, seed: number): string | null {
  const rand = prng(seed);
  const budget = 20_000;
  const ob = new Outbox({ dataDir: tempDir(t), exporters: ['a', 'b'], imageBudgetBytes: budget, unsafeNoFsync: true });
  const model = new Map<number, { cam: string; state: Record<string, State> }>();
  const withImages: number[] = [];
  let n = 0;
  try {
    for (let step = 0; step < 200; step++) {
      const r = rand();
      const ex = rand() < 0.5 ? 'a' : 'b';
      const heads = ob.heads(ex);
      if (r < 0.4 || heads.length === 0) {
        const cam = `cam-${Math.floor(rand() * 3)}`;
        const image = rand() < 0.5;
        const seq = ob.add(sampleEvent(n++, cam), image ? { frame: fakeJpeg(n, 3000) } : {});
        model.set(seq, { cam, state: { a: 'pending', b: 'pending' } });
        if (image) withImages.push(seq);
      } else {
        const h = heads[Math.floor(rand() * heads.length)];
        const op = rand();
        if (op < 0.5) { ob.markDelivered(ex, h.seq); model.get(h.seq)!.state[ex] = 'delivered'; }
        else if (op < 0.75) ob.markFailed(ex, h.seq, 'x', Date.now() + 1000);
        else if (op < 0.95) { ob.markDead(ex, h.seq, 'HTTP 400'); model.get(h.seq)!.state[ex] = 'dead'; }
        else { ob.retry(ex); for (const m of model.values()) if (m.state[ex] === 'dead') m.state[ex] = 'pending'; }
      }
      // Invariant: heads = per camera, the smallest pending seq in the model.
      for (const e of ['a', 'b']) {
        const want = new Map<string, number>();
        for (const [seq, m] of model) if (m.state[e] === 'pending' && (!want.has(m.cam) || seq < want.get(m.cam)!)) want.set(m.cam, seq);
        const got = new Map(ob.heads(e).map((h) => [h.cameraId, h.seq]));
        if (JSON.stringify([...got].sort()) !== JSON.stringify([...want].sort())) {
          return `step ${step}: heads(${e}) ${JSON.stringify([...got])} != model ${JSON.stringify([...want])}`;
        }
        const d = ob.depth()[e];
        const pend = [...model.values()].filter((m) => m.state[e] === 'pending').length;
        const dead = [...model.values()].filter((m) => m.state[e] === 'dead').length;
        if (d.pending !== pend || d.dead !== dead) return `step ${step}: depth(${e}) ${JSON.stringify(d)} != {${pend}, ${dead}}`;
      }
    }
    const st = ob.stats();
    if (st.events !== model.size) return `events lost: ${st.events} != ${model.size}`;
    if (st.imageBytes > budget) return `images ${st.imageBytes} over budget`;
    // Images go oldest first: of the events stored with images, those still holding them are the newest.
    const holding = new Set((ob.db.prepare('SELECT seq FROM events WHERE frame_path IS NOT NULL').all() as Array<{ seq: number }>).map((r) => r.seq));
    const pattern = withImages.map((seq) => (holding.has(seq) ? 1 : 0)).join('');
    if (!/^0*1*$/.test(pattern)) return `images not evicted oldest first: ${pattern}`;
    if (withImages.length > 8 && !pattern.startsWith('0')) return `budget never reached eviction: ${pattern}`;
    return null;
  } finally {
    ob.close();
  }
}

t.test('random add/deliver/fail/dead/retry/replay sequences keep the outbox invariants', async (t) => {
  const first = FIXED !== undefined ? Number(FIXED) : Date.now() % 1_000_000;
  const until = Date.now() + 6_000;
  t.comment(`first seed ${first}${FIXED !== undefined ? ' (OUTBOX_PROPERTY_SEED: that round only)' : ''}`);
  let rounds = 0;
  for (let seed = first; rounds === 0 || (FIXED === undefined && Date.now() < until); seed++) {
    rounds++;
    const failure = round(t, seed);
    if (failure) {
      const again = round(t, seed);
      t.fail(`seed ${seed}: ${failure}; replayed: ${again === failure ? 'the same failure' : again ? `another failure (${again})` : 'passed'}. Replay: OUTBOX_PROPERTY_SEED=${seed} npx tap test/edge/outbox/outbox-property.test.ts`);
      return;
    }
  }
  t.ok(rounds > 0, `${rounds} random rounds of 200 operations`);
});
