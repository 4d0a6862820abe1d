/**
 * Plates cut by the frame/ROI border and partial reads, on crafted observation sequences
 * (boxes and engine reads as the pipeline gives them; no models).
 */
import t from 'tap';
import { PlateTracker, isBorderCut, isPartialRead, type TrackedObservation, type TrackResult } from '../../../edge/track/index.js';
import { vote } from '../../../edge/read/consensus.js';
import type { EngineRead } from '../../../edge/read/types.js';
import type { Box, Frame } from '../../../edge/contracts.js';
import { regionsById, type Region } from '../../../shared/plate/index.js';

const W = 960;
const H = 540;
const read = (engine: string, text: string, conf: number): EngineRead => ({ engine, text, confidence: conf, chars: [...text].map((char) => ({ char, confidence: conf })) });

/** One plate in frame `i` (100 ms apart): both engines read `text`; the pipeline's per-frame consensus. */
function seen(i: number, box: Box, text: string, o: { conf?: number; regions?: Region[]; roiFrame?: Partial<Frame> } = {}): TrackedObservation {
  const conf = o.conf ?? 0.95;
  const frame: Frame = { cameraId: 'gate', seq: i, ts: i * 100, width: W, height: H, data: Buffer.alloc(0) };
  const reads = [read('fast-plate-ocr', text, conf), read('paddle-ocr', text, conf - 0.05)];
  return { box, reads, consensus: vote(reads.map((r) => ({ read: r })), { regions: o.regions ?? [] }), frame, processingMs: 10 };
}

/** Feeds frames 0..n-1 (one observation or none each), then a frame long after; returns every result. */
function run(tr: PlateTracker, frames: (TrackedObservation | undefined)[]): TrackResult[] {
  const out: TrackResult[] = [];
  frames.forEach((ob, i) => out.push(...tr.update(i * 100, ob ? [ob] : [])));
  out.push(...tr.update(frames.length * 100 + 10_000, []));
  return out;
}

// The demo's car: its plate (170×40 px) enters from the left edge of a 960×540 frame, stops, leaves right.
const plateAt = (x: number): Box => {
  const x0 = Math.max(0, x);
  const x1 = Math.min(W, x + 170);
  return { x: x0, y: 400, width: x1 - x0, height: 40 };
};

t.test('isBorderCut: the frame edge, the ROI edge, a small margin', async (t) => {
  t.equal(isBorderCut({ x: 0, y: 400, width: 60, height: 40 }, W, H), true, 'cut by the left edge');
  t.equal(isBorderCut({ x: 900, y: 400, width: 60, height: 40 }, W, H), true, 'cut by the right edge');
  t.equal(isBorderCut({ x: 400, y: 510, width: 170, height: 30 }, W, H), true, 'at the bottom edge');
  t.equal(isBorderCut({ x: 20, y: 407, width: 60, height: 30 }, W, H), true, 'the demo\'s "LMN": a space (20 px) from the left edge, within one character size (30 px)');
  t.equal(isBorderCut({ x: 844, y: 408, width: 92, height: 28 }, W, H), true, 'the demo\'s "RT651" leaving: 24 px from the right edge, 28 px high');
  t.equal(isBorderCut({ x: 45, y: 400, width: 170, height: 40 }, W, H), false, 'more than a character size from the edge: a whole plate');
  t.equal(isBorderCut({ x: 45, y: 400, width: 170, height: 40 }, W, H, undefined, { chars: 2 }), true, 'borderChars widens it');
  t.equal(isBorderCut({ x: 400, y: 2, width: 170, height: 40 }, W, H), true, 'top: within 0.5 % of the height (2.7 px)');
  t.equal(isBorderCut({ x: 400, y: 10, width: 170, height: 40 }, W, H), false, 'top: a character size away is clear (a cut there goes through the characters)');
  t.equal(isBorderCut({ x: 400, y: 300, width: 170, height: 40 }, W, H), false, 'in the middle');
  const roi = { x: 200, y: 100, width: 600, height: 400 };
  t.equal(isBorderCut({ x: 200, y: 300, width: 120, height: 40 }, W, H, roi), true, 'cut by the ROI, well inside the frame');
  t.equal(isBorderCut({ x: 400, y: 300, width: 170, height: 40 }, W, H, roi), false, 'inside the ROI');
  t.equal(isBorderCut({ x: 700, y: 300, width: 170, height: 40 }, W, H, { x: 0, y: 0, width: 2000, height: 2000 }), false, 'an ROI larger than the frame is clipped to it');
});

t.test('isPartialRead: strict pieces, look-alike aware', async (t) => {
  t.equal(isPartialRead('LMN', 'GF19LMN'), true);
  t.equal(isPartialRead('GF19', 'GF19LMN'), true, 'a prefix (car leaving right)');
  t.equal(isPartialRead('F19', 'GF19LMN'), true);
  t.equal(isPartialRead('1MN', 'GF19LMN'), true, 'L/1 look-alikes fold');
  t.equal(isPartialRead('GF19LMN', 'GF19LMN'), false, 'not strict');
  t.equal(isPartialRead('LMX', 'GF19LMN'), false);
  t.equal(isPartialRead('', 'GF19LMN'), false);
});

t.test('entering car: "LMN" at the border, then the whole plate; minFrames 1 emits "GF19LMN" only', async (t) => {
  const tr = new PlateTracker([], { minFrames: 1 });
  const frames = [
    seen(0, plateAt(-110), 'LMN'),
    seen(1, plateAt(-100), 'LMN'),
    seen(2, plateAt(-90), 'LMN'),
    seen(3, plateAt(-60), '19LMN', { conf: 0.9 }),
    seen(4, plateAt(60), 'GF19LMN', { conf: 0.9 }),
  ];
  const out = run(tr, frames);
  t.equal(out.length, 1, 'one event');
  t.equal(out[0].text, 'GF19LMN', 'four confident border reads of the piece do not outvote one whole read');
  t.equal(out[0].borderOnly, false);
  t.equal(out[0].frameCount, 5, 'the border frames belong to the same track');
  t.equal(out[0].clearFrameCount, 1);
  t.equal(out[0].firstSeenTs, 0);
  t.equal(out[0].best.frame.seq, 4, 'the event image is the whole view, not the more confident border one');
  t.ok(out[0].candidates.every((c) => c.text === 'GF19LMN'), 'raw candidates come from the whole views');
  t.ok(out[0].confidence >= 0.5);
});

t.test('entering car: border views never confirm early, the first whole view does', async (t) => {
  const tr = new PlateTracker([], { minFrames: 1, maxTrackFrames: 3 });
  const got: TrackResult[] = [];
  const frames = [seen(0, plateAt(-110), 'LMN'), seen(1, plateAt(-90), 'LMN'), seen(2, plateAt(-70), 'LMN'), seen(3, plateAt(-50), '9LMN')];
  frames.forEach((ob, i) => got.push(...tr.update(i * 100, [ob])));
  t.same(got, [], 'a full window of border views confirms nothing');
  got.push(...tr.update(400, [seen(4, plateAt(60), 'GF19LMN')]));
  t.equal(got.length, 1, 'confirmed as soon as a whole view joins the window');
  t.equal(got[0].text, 'GF19LMN');
  for (let i = 5; i < 9; i++) got.push(...tr.update(i * 100, [seen(i, plateAt(60 + i * 10), 'GF19LMN')]));
  got.push(...tr.update(20_000, []));
  t.equal(got.length, 1, 'and only once');
});

t.test('the border piece alone is not an event', async (t) => {
  const tr = new PlateTracker([], { minFrames: 1 });
  t.same(run(tr, [seen(0, plateAt(-110), 'LMN'), seen(1, plateAt(-100), 'LMN')]), [], 'no regions: nothing vouches for the read, dropped');
  const br = regionsById(['br']);
  const tb = new PlateTracker(br, { minFrames: 1 });
  t.same(run(tb, [seen(0, plateAt(-110), 'LMN', { regions: br })]), [], 'a piece fits no format: dropped');
});

t.test('a track seen only at the border, whose read fits a format, is emitted at its end with lowered confidence', async (t) => {
  const br = regionsById(['br']);
  const tr = new PlateTracker(br, { minFrames: 1, maxTrackFrames: 3 });
  // A car stopped with its plate against the right edge, for longer than maxTrackFrames.
  const frames = Array.from({ length: 5 }, (_, i) => seen(i, { x: 792, y: 400, width: 168, height: 40 }, 'ABC1D23', { regions: br }));
  const got: TrackResult[] = [];
  frames.forEach((ob, i) => got.push(...tr.update(i * 100, [ob])));
  t.same(got, [], 'not confirmed while it may still show more');
  got.push(...tr.update(10_000, []));
  t.equal(got.length, 1);
  t.equal(got[0].text, 'ABC1D23');
  t.equal(got[0].borderOnly, true);
  t.ok(got[0].confidence <= 0.5 && got[0].confidence > 0.4, `confidence halved (${got[0].confidence})`);
  t.equal(got[0].consensus.confidence, got[0].confidence);

  const never = new PlateTracker(br, { minFrames: 1, borderOnlyFactor: 0 });
  t.same(run(never, frames.slice(0, 2)), [], 'borderOnlyFactor 0: never emitted');
});

t.test('single-frame tracks', async (t) => {
  const one = new PlateTracker([], { minFrames: 1 });
  const r = run(one, [seen(0, plateAt(400), 'GF19LMN')]);
  t.equal(r.length, 1, 'one whole view is an event with minFrames 1');
  t.equal(r[0].text, 'GF19LMN');
  t.equal(r[0].frameCount, 1);
  t.same(run(new PlateTracker([], { minFrames: 1 }), [seen(0, plateAt(-100), 'LMN')]), [], 'one border view is not');
  t.same(run(new PlateTracker([], { minFrames: 2 }), [seen(0, plateAt(400), 'GF19LMN')]), [], 'minFrames 2 still drops one frame');
  const flushed = new PlateTracker([], { minFrames: 1 });
  flushed.update(0, [seen(0, plateAt(-100), 'LMN')]);
  t.same(flushed.flush(), [], 'flush applies the same rule');
});

t.test('leaving car: whole views, then pieces at the right edge; one event with the whole plate', async (t) => {
  // Early decision off: the whole pass, pieces included, votes when the track closes.
  const tr = new PlateTracker([], { minFrames: 1, confirmFrames: 0 });
  const frames = [
    seen(0, plateAt(395), 'GF19LMN'),
    seen(1, plateAt(400), 'GF19LMN'),
    seen(2, plateAt(600), 'GF19LMN'),
    seen(3, plateAt(792), 'GF19LM'),
    seen(4, plateAt(840), 'GF19'),
    seen(5, plateAt(870), 'GF1'),
    seen(6, plateAt(890), 'GF'),
  ];
  const out = run(tr, frames);
  t.equal(out.length, 1);
  t.equal(out[0].text, 'GF19LMN');
  t.equal(out[0].frameCount, 7);
  t.equal(out[0].clearFrameCount, 3);
});

t.test('leaving car after a parked confirmation: a piece whose box jumped joins the track, no second event', async (t) => {
  const tr = new PlateTracker([], { minFrames: 1, maxTrackFrames: 3 });
  const got: TrackResult[] = [];
  for (let i = 0; i < 4; i++) got.push(...tr.update(i * 100, [seen(i, plateAt(400), 'GF19LMN')]));
  t.equal(got.length, 1, 'parked: confirmed at maxTrackFrames');
  // Frames were dropped while it drove off: the next box does not overlap the last one.
  got.push(...tr.update(1000, [seen(10, plateAt(850), 'GF19')]));
  t.equal(tr.openTracks, 1, 'the piece joined the parked track (its text is a piece of the track\'s)');
  got.push(...tr.update(1100, [seen(11, plateAt(900), 'GF')]));
  got.push(...tr.update(20_000, []));
  t.equal(got.length, 1, 'no event for the piece');
});

t.test('a piece never wins, even with more frames and higher confidence, and in any order', async (t) => {
  const tr = new PlateTracker([], { minFrames: 1 });
  // Whole views first, then many confident pieces (a car reversing out of the frame).
  const frames = [seen(0, plateAt(300), 'GF19LMN', { conf: 0.75 }), ...Array.from({ length: 8 }, (_, i) => seen(i + 1, plateAt(-100 - i * 2), 'LMN', { conf: 0.99 }))];
  const out = run(tr, frames);
  t.equal(out.length, 1);
  t.equal(out[0].text, 'GF19LMN');
});

t.test('a piece loses even from whole (clear) views, e.g. the text detector clipped the plate', async (t) => {
  const tr = new PlateTracker([], { minFrames: 1 });
  const frames = [seen(0, plateAt(300), 'GF19LMN', { conf: 0.8 }), seen(1, plateAt(305), 'LMN'), seen(2, plateAt(310), 'LMN'), seen(3, plateAt(315), 'LMN')];
  const out = run(tr, frames);
  t.equal(out.length, 1);
  t.equal(out[0].text, 'GF19LMN');
});

t.test('formats: a read fitting the region formats wins against one that does not', async (t) => {
  const eu = regionsById(['eu']);
  const tr = new PlateTracker(eu, { minFrames: 1 });
  // Three frames misread the 3 as J (fits no format), two read it right (fits fr/it LL-DDD-LL).
  const texts = ['AB12JCD', 'AB123CD', 'AB12JCD', 'AB123CD', 'AB12JCD'];
  const out = run(tr, texts.map((x, i) => seen(i, plateAt(300 + i * 5), x, { regions: eu })));
  t.equal(out.length, 1);
  t.equal(out[0].text, 'AB123CD');
  t.equal(out[0].consensus.format, 'fr');

  // Closed region: a longer read with a stray character that fits no format does not make
  // the fitting plate a "piece" of it, and loses.
  const br = regionsById(['br']);
  const tb = new PlateTracker(br, { minFrames: 1 });
  const brTexts = ['ABC12344', 'ABC1234', 'ABC12344', 'ABC1234', 'ABC12344'];
  const got = run(tb, brTexts.map((x, i) => seen(i, plateAt(300 + i * 5), x, { regions: br })));
  t.equal(got.length, 1);
  t.equal(got[0].text, 'ABC1234');
  t.equal(got[0].consensus.format, 'br-old');
});

t.test('ROI border: a plate cut by the region of interest is a border view', async (t) => {
  const tr = new PlateTracker([], { minFrames: 1 });
  tr.setRoi({ x: 200, y: 200, width: 600, height: 340 });
  // The plate is well inside the frame but crosses the ROI's left edge: only "LMN" is searched.
  t.same(run(tr, [seen(0, { x: 200, y: 400, width: 60, height: 40 }, 'LMN')]), [], 'dropped like a frame-border piece');
  tr.setRoi(undefined);
  t.equal(run(tr, [seen(0, { x: 200, y: 400, width: 60, height: 40 }, 'LMN')]).length, 1, 'without the ROI the same box is a clear view');
});

t.test('an observation may say itself whether it is cut', async (t) => {
  const tr = new PlateTracker([], { minFrames: 1 });
  t.same(run(tr, [{ ...seen(0, plateAt(400), 'LMN'), borderCut: true }]), []);
});

t.test('the demo at 2 fps, as measured: boxes that do not overlap, pieces misread by one engine', async (t) => {
  // Observations of the demo clip (rec.analyze, 960×540 at 2 fps): "GF19 LMN" entering, and
  // "RT65 HJK" leaving. The pieces' boxes stop a space short of the edge.
  const at = (i: number, box: Box, reads: [string, string, number][], doubtful: Record<string, number> = {}): TrackedObservation => {
    const frame: Frame = { cameraId: 'gate', seq: i, ts: i * 500, width: W, height: H, data: Buffer.alloc(0) };
    const rs = reads.map(([engine, text, conf]) => {
      const r = read(engine, text, conf);
      if (engine === 'fast-plate-ocr') r.chars = r.chars.map((c, k) => (k === text.length - 1 && doubtful[c.char] ? { ...c, confidence: doubtful[c.char] } : c));
      return r;
    });
    return { box, reads: rs, consensus: vote(rs.map((r) => ({ read: r }))), frame, processingMs: 150 };
  };
  const engines = (f: string, p: string, x: string, conf = 0.95): [string, string, number][] => [['fast-plate-ocr', f, conf], ['paddle-ocr', p, conf], ['tesseract', x, conf]];
  const tr = new PlateTracker([], { minFrames: 1 });
  const out: TrackResult[] = [];
  const frames = [
    // fast-plate-ocr pads its fixed slots with a doubtful V; the frame's consensus is "LMN".
    at(0, { x: 20, y: 407, width: 60, height: 30 }, engines('LMNV', 'LMN', 'LMN'), { V: 0.2 }),
    at(1, { x: 101, y: 406, width: 142, height: 29 }, engines('GF19LMN', 'GF19LMN', 'GF19LMN')),
    at(2, { x: 266, y: 406, width: 142, height: 31 }, engines('GF19LMN', 'GF19LMN', 'GF19LMN')),
    at(3, { x: 410, y: 406, width: 142, height: 31 }, engines('GF19LMN', 'GF19LMN', 'GF19LMN')),
    at(4, { x: 610, y: 406, width: 142, height: 31 }, engines('GF19LMN', 'GF19LMN', 'GF19LMN')),
    at(5, { x: 844, y: 408, width: 92, height: 28 }, engines('GF191', 'GF19', 'GF19F', 0.85)),
  ];
  t.equal(frames[0].consensus.text, 'LMN');
  frames.forEach((ob) => out.push(...tr.update(ob.frame.ts, [ob])));
  out.push(...tr.update(10_000, []));
  t.same(out.map((r) => r.text), ['GF19LMN'], 'the whole plate only: no "LMN", no "GF191"');
  t.equal(out[0].firstSeenTs, 0, 'the entering piece joined the track although its box does not overlap the next');

  // A leaving piece that is no substring of the plate ("RT651": H read as 1) after the track closed: its own
  // track, seen at the border only, fits no format: dropped.
  const lone = new PlateTracker([], { minFrames: 1 });
  t.same(run(lone, [at(0, { x: 844, y: 408, width: 92, height: 28 }, engines('RT651', 'RT65', 'RT65F', 0.85))]), []);
});
