import t from 'tap';
import { PlateTracker, DedupWindow, engineCandidates, type TrackedObservation } from '../../../edge/track/index.js';
import { vote } from '../../../edge/read/consensus.js';
import type { EngineRead } from '../../../edge/read/types.js';
import type { Frame } from '../../../edge/contracts.js';
import { regionsById } from '../../../shared/plate/index.js';

const REGIONS_US = regionsById(['us']);

const read = (engine: string, text: string, conf = 0.9): EngineRead => ({ engine, text, confidence: conf, chars: [...text].map((char) => ({ char, confidence: conf })) });

/** A fixture iterable of frames: one car crossing left to right, its plate read slightly differently each frame. */
function* passingCar(texts: string[], t0: number, x0 = 100): Generator<{ ts: number; obs: TrackedObservation[] }> {
  for (const [i, text] of texts.entries()) {
    // A 960×540 camera; the plate boxes below stay clear of its border (see border.test.ts for cut plates).
    const frame: Frame = { cameraId: 'c', seq: i, ts: t0 + i * 100, width: 960, height: 540, data: Buffer.alloc(0) };
    const reads = [read('fast-plate-ocr', text), read('paddle-ocr', text, 0.8)];
    yield { ts: frame.ts, obs: [{ box: { x: x0 + i * 20, y: 300, width: 120, height: 30 }, reads, consensus: vote(reads.map((r) => ({ read: r }))), frame, processingMs: 50 }] };
  }
}

t.test('one track per passing car, confirmed when it is lost, voted across frames (early decision off)', async (t) => {
  const tr = new PlateTracker([], { maxGapMs: 500, confirmFrames: 0 });
  const out = [];
  for (const f of passingCar(['ABC123', 'ABC123', 'A8C123', 'ABC123'], 1000)) out.push(...tr.update(f.ts, f.obs));
  t.same(out, [], 'still in view');
  t.equal(tr.openTracks, 1);
  const closed = tr.update(2000, []);
  t.equal(closed.length, 1);
  t.equal(closed[0].text, 'ABC123', 'the odd frame is outvoted');
  t.equal(closed[0].frameCount, 4);
  t.equal(closed[0].firstSeenTs, 1000);
  t.equal(closed[0].lastSeenTs, 1300);
  t.equal(closed[0].processingMs, 200);
  t.equal(tr.openTracks, 0);
});

t.test('two cars at once are two tracks', async (t) => {
  const tr = new PlateTracker([], { maxGapMs: 500, confirmFrames: 0 });
  const a = [...passingCar(['ABC123', 'ABC123'], 0, 60)];
  const b = [...passingCar(['XYZ789', 'XYZ789'], 0, 600)];
  for (let i = 0; i < 2; i++) tr.update(a[i].ts, [...a[i].obs, ...b[i].obs]);
  t.equal(tr.openTracks, 2);
  t.same(tr.flush().map((r) => r.text).sort(), ['ABC123', 'XYZ789']);
});

t.test('a parked car is confirmed once after maxTrackFrames, then stays silent', async (t) => {
  const tr = new PlateTracker([], { maxGapMs: 500, maxTrackFrames: 3 });
  const frames = [...passingCar(Array(8).fill('PARK01'), 0, 100)].map((f) => ({ ...f, obs: f.obs.map((o) => ({ ...o, box: { ...o.box, x: 100 } })) }));
  const out = frames.flatMap((f) => tr.update(f.ts, f.obs));
  t.equal(out.length, 1);
  t.same(tr.update(5000, []), [], 'no second event when it leaves');
});

t.test('early decision: two agreeing clear frames confirm at once; later frames add no event', async (t) => {
  const tr = new PlateTracker([], { maxGapMs: 500 });
  const frames = [...passingCar(['ABC123', 'ABC123', 'ABC123', 'A8C123', 'ABC123'], 1000)];
  t.same(tr.update(frames[0].ts, frames[0].obs), [], 'one frame is not enough');
  const at2 = tr.update(frames[1].ts, frames[1].obs);
  t.same(at2.map((r) => [r.text, r.frameCount, r.firstSeenTs, r.lastSeenTs]), [['ABC123', 2, 1000, 1100]], 'confirmed on the second agreeing frame');
  for (const f of frames.slice(2)) t.same(tr.update(f.ts, f.obs), [], 'the same pass stays one event');
  t.same(tr.update(5000, []), [], 'nothing more when the car leaves');
});

t.test('a less confident read needs twice as many agreeing frames before the early decision', async (t) => {
  const tr = new PlateTracker([], { maxGapMs: 500 });
  const frames = [...passingCar(Array(5).fill('ABC123'), 1000)].map((f) => ({
    ...f,
    obs: f.obs.map((o) => {
      const reads = o.reads.map((r) => ({ ...r, confidence: 0.6, chars: r.chars.map((c) => ({ ...c, confidence: 0.6 })) }));
      return { ...o, reads, consensus: vote(reads.map((r) => ({ read: r }))) };
    }),
  }));
  t.ok(frames[0].obs[0].consensus.confidence < 0.75 && frames[0].obs[0].consensus.confidence >= 0.5, 'a hesitant but acceptable read');
  const at = frames.map((f) => tr.update(f.ts, f.obs).length);
  t.same(at, [0, 0, 0, 1, 0], 'confirmed on the fourth agreeing frame, once');
});

t.test('early decision waits while the frames disagree', async (t) => {
  const tr = new PlateTracker([], { maxGapMs: 500 });
  const frames = [...passingCar(['ABC123', 'ABG128', 'ABC123'], 1000)];
  t.same(tr.update(frames[0].ts, frames[0].obs), []);
  t.same(tr.update(frames[1].ts, frames[1].obs), [], 'two different reads: not stable yet');
  t.same(tr.update(frames[2].ts, frames[2].obs).map((r) => r.text), ['ABC123'], 'the second agreeing frame confirms');
});

t.test('the next car stopping where the last one stood is a new track and a new event', async (t) => {
  // A gate: each car stops at the same spot; the boxes overlap completely.
  const tr = new PlateTracker([], { maxGapMs: 500 });
  const still = (texts: string[], t0: number) => [...passingCar(texts, t0)].map((f) => ({ ...f, obs: f.obs.map((o) => ({ ...o, box: { x: 400, y: 300, width: 120, height: 30 } })) }));
  const out = [...still(['AYO9034', 'AYO9034', 'AYO9034'], 0), ...still(['GWT2180', 'GWT2180', 'GWT2180'], 300)].flatMap((f) => tr.update(f.ts, f.obs));
  out.push(...tr.update(5000, []));
  t.same(out.map((r) => r.text), ['AYO9034', 'GWT2180']);
});

t.test('a piece of the plate at the border never confirms early', async (t) => {
  const tr = new PlateTracker(REGIONS_US, { maxGapMs: 500 });
  const frame = (i: number): Frame => ({ cameraId: 'c', seq: i, ts: i * 100, width: 960, height: 540, data: Buffer.alloc(0) });
  const reads = [read('fast-plate-ocr', '123'), read('paddle-ocr', '123', 0.8)];
  const out = [0, 1, 2, 3].flatMap((i) => tr.update(i * 100, [{ box: { x: 0, y: 300, width: 60, height: 30 }, reads, consensus: vote(reads.map((r) => ({ read: r }))), frame: frame(i), processingMs: 1 }]));
  t.same(out, [], 'border views only: not confirmed while the track goes on');
});

t.test('minFrames drops one-frame flickers', async (t) => {
  const tr = new PlateTracker([], { minFrames: 2 });
  const [f] = passingCar(['ABC123'], 0);
  tr.update(f.ts, f.obs);
  t.same(tr.flush(), []);
});

t.test('engine candidates: each engine its most supported text', async (t) => {
  const obs = [...passingCar(['ABC123', 'ABC123', 'A8C123'], 0)].flatMap((f) => f.obs);
  const c = engineCandidates(obs);
  t.same(c.map((x) => [x.model, x.text]), [['fast-plate-ocr', 'ABC123'], ['paddle-ocr', 'ABC123']]);
});

t.test('de-dup window: look-alike aware, per window', async (t) => {
  const d = new DedupWindow(10_000);
  t.equal(d.check('ABC123', 0), false);
  t.equal(d.check('ABC123', 5_000), true);
  t.equal(d.check('A8C123', 6_000), true, 'B/8 look-alike is the same plate');
  t.equal(d.check('XYZ789', 6_000), false);
  t.equal(d.check('ABC123', 30_000), false, 'after the window a new event');
});

t.test('a long track not yet confident keeps a sliding window and confirms once it is', async (t) => {
  const tr = new PlateTracker([], { maxGapMs: 500, maxTrackFrames: 3, minConfidence: 0.5 });
  const weak = (text: string, conf: number, i: number): TrackedObservation => {
    const frame: Frame = { cameraId: 'c', seq: i, ts: i * 100, width: 960, height: 540, data: Buffer.alloc(0) };
    const reads = [read('fast-plate-ocr', text, conf)];
    return { box: { x: 100, y: 300, width: 120, height: 30 }, reads, consensus: vote(reads.map((r) => ({ read: r }))), frame, processingMs: 10 };
  };
  const out = [];
  for (let i = 0; i < 3; i++) out.push(...tr.update(i * 100, [weak('GHJ234', 0.3, i)]));
  t.same(out, [], 'three doubtful frames: not confirmed, still open');
  for (let i = 3; i < 6; i++) out.push(...tr.update(i * 100, [weak('GHJ234', 0.95, i)]));
  t.equal(out.length, 1, 'confirmed once, as soon as the window is confident');
  t.equal(out[0].frameCount, 4);
  t.equal(out[0].best.frame.seq, 3, 'the most confident frame gives the image');
  t.equal(out[0].firstSeenTs, 0);
});

t.test('half of the plate found and read as other characters ("4822" of KXR482) joins the plate\'s track, weakly', async (t) => {
  const tr = new PlateTracker([], { maxGapMs: 500 });
  const at = (i: number, text: string, box: { x: number; width: number }, conf = 0.9): { ts: number; obs: TrackedObservation[] } => {
    const frame: Frame = { cameraId: 'c', seq: i, ts: i * 100, width: 960, height: 540, data: Buffer.alloc(0) };
    const reads = [read('fast-plate-ocr', text, conf), read('paddle-ocr', text, conf - 0.1)];
    return { ts: frame.ts, obs: [{ box: { ...box, y: 300, height: 30 }, reads, consensus: vote(reads.map((r) => ({ read: r }))), frame, processingMs: 1 }] };
  };
  const whole = { x: 400, width: 130 };
  const half = { x: 470, width: 60 };
  // The whole plate in view; in some frames the detector finds only its right half.
  const frames = [at(0, 'KXR482', whole), at(1, '4822', half), at(2, '4822', half), at(3, 'KXR482', whole), at(4, '4822', half)];
  const out = frames.flatMap((f) => tr.update(f.ts, f.obs));
  out.push(...tr.update(5000, []));
  t.same(out.map((r) => r.text), ['KXR482'], 'one event, the whole plate');
  t.equal(tr.openTracks, 0);
});
