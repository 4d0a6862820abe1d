/**
 * Bad input on the live path, part 1: a camera that shows no plate for a long time, and a
 * frozen picture (a stuck camera repeating one frame). Real ffmpeg capture of generated H.264
 * files (played at their own pace and looped, like a camera) into the real recognizer.
 */
import t from 'tap';
import { CameraCapture } from '../../../edge/capture/camera-capture.js';
import { tempDir } from '../../fixtures/media.js';
import { compact, edgeRecognizer, encodeClip, memoryNow, MiB, openTracks, prng, renderFrame, runLive, withNoise } from './fixtures.js';

const dir = tempDir(t, 'anpr-live-quiet-');
const W = 1280;
const H = 720;
const FRAME_BYTES = W * H * 3;

// As `anpr edge` runs it by default (60 s de-dup window, 2 frames per read), plates of the us formats.
const rec = await edgeRecognizer();
t.teardown(() => rec.dispose());

t.test('no plate for a long time: no event, no open track, memory flat after warm-up', async (t) => {
  // 4 s of road with sensor noise on every frame and a car without a plate driving across,
  // looped by the capture: 60 frames analysed.
  const random = prng(7);
  const clip = await encodeClip(dir, 'empty-road.mp4', { width: W, height: H, fps: 10, count: 40 }, async (i) => {
    const x = -480 + i * ((W + 480) / 39);
    return withNoise(await renderFrame(W, H, [{ x, y: 330, w: 480, h: 280, colour: '#2c3e50' }]), random);
  });
  const capture = new CameraCapture({ cameraId: 'quiet', url: clip, width: W, height: H, fps: 10 });
  t.teardown(() => capture.stop());
  const cam = rec.forCamera('quiet');
  let warm: ReturnType<typeof memoryNow> | undefined;
  let maxTracks = 0;
  const run = await runLive({
    capture,
    cam,
    onFrame: (_f, n) => {
      maxTracks = Math.max(maxTracks, openTracks(cam));
      if (n === 10) warm = memoryNow();
    },
    until: ({ processed }) => processed >= 60,
  });
  const end = memoryNow();
  t.equal(run.processed, 60);
  t.ok(capture.status().frames >= 60, `ffmpeg delivered ${capture.status().frames} frames`);
  t.same(run.reads.map((r) => r.plateText), [], 'no confirmed read from a road without plates');
  t.equal(maxTracks, 0, 'no track was ever opened');
  t.equal(openTracks(cam), 0);
  const heapGrowth = end.heap - warm!.heap;
  const bufferGrowth = end.buffers - warm!.buffers;
  t.comment(`50 frames after warm-up: heap ${(heapGrowth / MiB).toFixed(1)} MiB, buffers ${(bufferGrowth / MiB).toFixed(1)} MiB, rss ${((end.rss - warm!.rss) / MiB).toFixed(1)} MiB`);
  // A frame (2.6 MiB) kept per analysed frame would add 130 MiB over these 50 frames.
  t.ok(heapGrowth < 16 * MiB, `heap grew ${(heapGrowth / MiB).toFixed(1)} MiB`);
  t.ok(bufferGrowth < 4 * FRAME_BYTES, `buffers grew ${(bufferGrowth / MiB).toFixed(1)} MiB (< 4 frames)`);
});

t.test('a frozen empty picture gives no event and no track', async (t) => {
  const still = await renderFrame(W, H, []);
  const clip = await encodeClip(dir, 'frozen-empty.mp4', { width: W, height: H, fps: 5, count: 10 }, () => still);
  const capture = new CameraCapture({ cameraId: 'frozen-empty', url: clip, width: W, height: H, fps: 5 });
  t.teardown(() => capture.stop());
  const cam = rec.forCamera('frozen-empty');
  let maxTracks = 0;
  const run = await runLive({ capture, cam, onFrame: () => (maxTracks = Math.max(maxTracks, openTracks(cam))), until: ({ processed }) => processed >= 15 });
  t.same(run.reads, []);
  t.equal(maxTracks, 0);
});

t.test('a frozen picture with a plate is one event, with the default window and with a window far shorter than the freeze', async (t) => {
  // A 1 s de-dup window: only the track (the plate never leaves the picture) keeps the
  // frozen plate one event once the window has passed many times over.
  const shortWindow = await edgeRecognizer({ dedupWindowS: 1 });
  t.teardown(() => shortWindow.dispose());
  const still = await renderFrame(W, H, [{ x: 400, y: 330, w: 480, h: 280, colour: '#c0392b', plate: 'KXR 482' }]);
  const clip = await encodeClip(dir, 'frozen-plate.mp4', { width: W, height: H, fps: 5, count: 10 }, () => still);

  const frozen = async (id: string, cam: ReturnType<typeof rec.forCamera>) => {
    const capture = new CameraCapture({ cameraId: id, url: clip, width: W, height: H, fps: 5 });
    t.teardown(() => capture.stop());
    let first = 0;
    let last = 0;
    let maxTracks = 0;
    const run = await runLive({
      capture,
      cam,
      onFrame: (f) => {
        first ||= f.ts;
        last = f.ts;
        maxTracks = Math.max(maxTracks, openTracks(cam));
      },
      until: ({ processed }) => processed >= 20,
    });
    return { run, span: last - first, maxTracks };
  };
  const [long, short] = await Promise.all([frozen('frozen-a', rec.forCamera('frozen-a')), frozen('frozen-b', shortWindow.forCamera('frozen-b'))]);
  for (const [name, r] of [['60 s window', long], ['1 s window', short]] as const) {
    t.same(r.run.reads.map((x) => x.plateText), [compact('KXR 482')], `${name}: exactly one event in ${r.run.processed} frames`);
    t.equal(r.maxTracks, 1, `${name}: one track held the plate`);
  }
  t.ok(short.span > 3_000, `the freeze (${short.span} ms of frames) outlasted the 1 s window several times`);
});
