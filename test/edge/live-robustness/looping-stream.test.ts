/**
 * Bad input on the live path, part 2: a stream that loops (a recorder or a broken camera
 * replaying the same clip). One car passes in a 7 s clip; the capture loops the file. With the
 * default de-dup window (60 s) the replays are one event; with a window shorter than the loop
 * each pass is one event — never more, never a piece of the plate.
 */
import t from 'tap';
import { CameraCapture } from '../../../edge/capture/camera-capture.js';
import type { ConfirmedRead } from '../../../edge/recognize/index.js';
import { tempDir } from '../../fixtures/media.js';
import { compact, edgeRecognizer, encodeClip, openTracks, renderFrame, runLive } from './fixtures.js';

const dir = tempDir(t, 'anpr-live-loop-');
const W = 960;
const H = 540;
const FPS = 5;
const PLATE = 'KXR 482';
// One pass: 1 s of empty road, 1 s driving in from the left, 2 s stopped, 1 s driving out to
// the right, 2 s of empty road (longer than the tracker's 1.5 s gap: the pass's track closes).
const PASS = { lead: 5, enter: 5, stop: 10, leave: 5, trail: 10 };
const CLIP_FRAMES = PASS.lead + PASS.enter + PASS.stop + PASS.leave + PASS.trail;
const PASSES = 3;

const [defaultWindow, shortWindow] = await Promise.all([
  edgeRecognizer(),
  // 3 s: shorter than the 7 s loop, longer than a pass's own frames.
  edgeRecognizer({ dedupWindowS: 3 }),
]);
t.teardown(() => Promise.all([defaultWindow.dispose(), shortWindow.dispose()]));

const carW = Math.round(W * 0.42);
const carH = Math.round(H * 0.4);
const stopX = (W - carW) / 2;
const clip = await encodeClip(dir, 'one-pass.mp4', { width: W, height: H, fps: FPS, count: CLIP_FRAMES }, (i) => {
  let x: number | undefined;
  const enter = i - PASS.lead;
  const stopped = enter - PASS.enter;
  const leave = stopped - PASS.stop;
  if (enter >= 0 && enter < PASS.enter) x = -carW + ((stopX + carW) * (enter + 1)) / (PASS.enter + 1);
  else if (stopped >= 0 && stopped < PASS.stop) x = stopX;
  else if (leave >= 0 && leave < PASS.leave) x = stopX + ((W - stopX) * (leave + 1)) / (PASS.leave + 1);
  return renderFrame(W, H, x === undefined ? [] : [{ x, y: H * 0.5, w: carW, h: carH, colour: '#c0392b', plate: PLATE }]);
});

/** Which pass of the loop a frame belongs to (0-based), from its capture sequence number. */
const passOf = (r: ConfirmedRead) => Math.floor((r.frame.seq - 1) / CLIP_FRAMES);

t.test(`a clip of one passing car looped ${PASSES}×: one event with the 60 s window, one per pass with a 3 s window`, async (t) => {
  const loop = (id: string, rec: typeof defaultWindow) => {
    const capture = new CameraCapture({ cameraId: id, url: clip, width: W, height: H, fps: FPS });
    t.teardown(() => capture.stop());
    const cam = rec.forCamera(id);
    // Open tracks on the empty road at the end of each pass, 1.6 s or more after the car left.
    const emptyRoad: number[] = [];
    // Until the last frame of the third pass has been analysed (the capture numbers frames from 1).
    return runLive({
      capture,
      cam,
      flush: false,
      onFrame: (f) => (f.seq - 1) % CLIP_FRAMES >= CLIP_FRAMES - 3 && emptyRoad.push(openTracks(cam)),
      until: ({ frame }) => frame.seq >= PASSES * CLIP_FRAMES,
    }).then((run) => ({ ...run, emptyRoad }));
  };
  const [long, short] = await Promise.all([loop('loop-60s', defaultWindow), loop('loop-3s', shortWindow)]);
  t.comment(`60 s window: ${long.processed} frames analysed; 3 s window: ${short.processed}`);

  const plate = compact(PLATE);
  const ofPlate = (reads: ConfirmedRead[]) => reads.filter((r) => r.plateText === plate);
  t.same(ofPlate(long.reads).map(passOf), [0], '60 s window: one event of the plate for the three passes, in the first');
  const passes = ofPlate(short.reads).map(passOf);
  t.same(passes.filter((p) => p < PASSES), [0, 1, 2], '3 s window: exactly one event of the plate per pass');
  // The last analysed frame may be a little into a fourth pass; that pass can have begun, no more.
  t.ok(passes.every((p) => p <= PASSES), `events of passes ${passes}`);

  const invented = [...long.reads, ...short.reads].filter((r) => r.plateText !== plate).map((r) => `${r.cameraId}: ${r.plateText} (frame ${r.frame.seq}, ${r.frameCount} frames)`);
  // As the car enters, the text detector finds the plate in two overlapping pieces ("KXR", "482",
  // the latter read "4822"): the pieces are joined into one candidate (detect/text-plate-locator),
  // and a half of the plate found later joins the whole plate's track as a weak view (track/).
  t.comment(`events of text the video does not show: ${invented.join('; ') || 'none'}`);
  t.same(invented, [], 'no event of text the video does not show');

  for (const r of [long, short]) {
    // Every track of a pass closes on the empty road after it: nothing piles up over the loops.
    t.ok(r.emptyRoad.length >= 1, `${r.emptyRoad.length} frames analysed at the ends of the passes`);
    t.same(r.emptyRoad.filter((n) => n > 0), [], 'no track open at the end of a pass');
  }
});
