/**
 * Bad input on the live path, part 3: a picture with ten plates, a 4K stream and a 320×240
 * stream. Real ffmpeg capture of generated H.264 files (played at their own pace, looped)
 * into the real recognizer as `anpr edge` builds it.
 */
import t from 'tap';
import { CameraCapture } from '../../../edge/capture/camera-capture.js';
import type { CameraRecognitionSettings, Frame } from '../../../edge/recognize/index.js';
import { tempDir } from '../../fixtures/media.js';
import { compact, edgeRecognizer, encodeClip, memoryNow, MiB, openTracks, renderFrame, runLive, TEN_PLATES, type Car } from './fixtures.js';

const dir = tempDir(t, 'anpr-live-sizes-');
const rec = await edgeRecognizer();
t.teardown(() => rec.dispose());

/** A still picture played as a camera: `seconds` of the same frame, looped by the capture. */
async function stillClip(name: string, width: number, height: number, cars: Car[], seconds = 2): Promise<string> {
  const frame = await renderFrame(width, height, cars);
  return encodeClip(dir, name, { width, height, fps: 5, count: 5 * seconds }, () => frame);
}

/** Plays `url` into camera `id` at `width`×`height` until `frames` frames were analysed. */
async function play(id: string, url: string, width: number, height: number, frames: number, o: { settings?: CameraRecognitionSettings; onFrame?: (f: Frame, n: number) => void } = {}) {
  const capture = new CameraCapture({ cameraId: id, url, width, height, fps: 5 });
  t.teardown(() => capture.stop());
  const cam = rec.forCamera(id, o.settings);
  let maxTracks = 0;
  const run = await runLive({
    capture,
    cam,
    onFrame: (f, n) => {
      if (f.width !== width || f.height !== height || f.data.length !== width * height * 3) throw new Error(`frame ${f.seq} is ${f.width}x${f.height}, ${f.data.length} bytes`);
      maxTracks = Math.max(maxTracks, openTracks(cam));
      o.onFrame?.(f, n);
    },
    until: ({ processed }) => processed >= frames,
  });
  return { ...run, maxTracks, plates: run.reads.map((r) => r.plateText) };
}

t.test('ten plates in one 1920x1080 picture: no crash, (nearly) all ten read, every event one of the ten, each once', async (t) => {
  const colours = ['#c0392b', '#2c3e50', '#ecf0f1', '#16a085', '#8e44ad'];
  const cars: Car[] = TEN_PLATES.map((plate, i) => ({ x: 20 + (i % 5) * 380, y: 300 + Math.floor(i / 5) * 380, w: 340, h: 300, colour: colours[i % 5], plate, plateScale: 0.6 }));
  const clip = await stillClip('ten-plates.mp4', 1920, 1080, cars);
  const run = await play('crowd', clip, 1920, 1080, 10);
  const ten = TEN_PLATES.map(compact);
  t.comment(`confirmed ${run.plates.length} of the ten: ${run.plates.join(', ')}`);
  // Every region is read by fast-plate-ocr, the best two by every engine (maxPlates); the rest
  // become plates on the specialist's read when the verdict accepts them (10 of 10 here, quiet).
  t.ok(run.plates.length >= 8, 'the cars beyond the best two are reported too');
  t.same(run.plates.filter((p) => !ten.includes(p)), [], 'no text that is not one of the ten plates');
  t.equal(new Set(run.plates).size, run.plates.length, 'each plate at most once');
  t.ok(run.maxTracks <= 10, `${run.maxTracks} tracks open at most`);
});

t.test('a 4K stream: analysed at 3840x2160 and scaled to 1920x1080 by the capture; the plate is read; memory bounded', async (t) => {
  const clip = await stillClip('uhd.mp4', 3840, 2160, [{ x: 1400, y: 1100, w: 1100, h: 700, colour: '#16a085', plate: 'HTM 735' }]);
  const FRAME = 3840 * 2160 * 3;
  let warm: ReturnType<typeof memoryNow> | undefined;
  const native = await play('uhd', clip, 3840, 2160, 14, { onFrame: (_f, n) => n === 4 && (warm = memoryNow()) });
  const end = memoryNow();
  t.same(native.plates, ['HTM735'], 'read once at 3840x2160');
  const growth = end.heap + end.buffers - (warm!.heap + warm!.buffers);
  t.comment(`10 frames of 24 MiB after warm-up: heap+buffers ${(growth / MiB).toFixed(1)} MiB, rss ${((end.rss - warm!.rss) / MiB).toFixed(1)} MiB`);
  // One 4K frame kept per analysed frame would add 240 MiB.
  t.ok(growth < 2 * FRAME, `heap+buffers grew ${(growth / MiB).toFixed(1)} MiB (< 2 frames)`);

  const scaled = await play('uhd-scaled', clip, 1920, 1080, 8);
  t.same(scaled.plates, ['HTM735'], 'read once scaled to 1920x1080');
});

t.test('a 320x240 stream: a readable plate is read, at 320x240 and upscaled to the default 1280x720; nothing else', async (t) => {
  const clip = await stillClip('qvga.mp4', 320, 240, [{ x: 60, y: 90, w: 200, h: 140, colour: '#8e44ad', plate: 'PLW 264', plateScale: 0.6 }]);
  // The 4:3 picture in a 16:9 frame: 960x720 in the middle, 160 px of black either side.
  const pixel = (f: Frame, x: number, y: number) => [...f.data.subarray((y * f.width + x) * 3, (y * f.width + x) * 3 + 3)];
  let bars: number[][] = [];
  const [small, upscaled] = await Promise.all([
    play('qvga', clip, 320, 240, 10),
    play('qvga-720p', clip, 1280, 720, 10, { onFrame: (f, n) => n === 1 && (bars = [pixel(f, 80, 360), pixel(f, 1200, 360), pixel(f, 640, 100)]) }),
  ]);
  t.same(small.plates, ['PLW264'], 'read at 320x240');
  t.ok(bars.slice(0, 2).every((p) => Math.max(...p) < 24), `black bars left and right, not a stretched picture (${JSON.stringify(bars)})`);
  t.ok(Math.max(...bars[2]) > 100, 'the picture in the middle');
  t.same(upscaled.plates, ['PLW264'], 'read when the capture upscales it to 1280x720 (the camera default)');
});

t.test('a 320x240 stream with a plate too small to read gives no invented text', async (t) => {
  // The plate is 24x6 pixels: its characters are 5 pixels high.
  const clip = await stillClip('qvga-tiny.mp4', 320, 240, [{ x: 130, y: 150, w: 40, h: 28, colour: '#8e44ad', plate: 'FJN 937', plateScale: 0.6 }]);
  const run = await play('qvga-tiny', clip, 320, 240, 12);
  t.comment(`events: ${run.plates.join(', ') || 'none'}`);
  t.same(run.plates.filter((p) => p !== 'FJN937'), [], 'nothing but the plate, if anything');
});
