import t from 'tap';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { renderPlate, renderScene } from '../edge/recognize/fixtures.js';
import sharp from 'sharp';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../../bin/anpr.js', import.meta.url));

/** A tiny dataset in both OpenALPR layouts, rendered here; one label is deliberately wrong. */
async function makeDataset(root: string) {
  const e2e = join(root, 'endtoend', 'us');
  await mkdir(e2e, { recursive: true });
  const scenes: [string, string, number][] = [
    ['a', 'KXR 482', 350],
    ['b', 'PLT 7731', 500],
    ['c', 'MZW 904', 200],
  ];
  for (const [name, text, x] of scenes) {
    const s = await renderScene(text, { plateX: x });
    await writeFile(join(e2e, `${name}.png`), s.png);
    const label = name === 'c' ? 'WRONG1' : text.replace(/\s/g, '');
    await writeFile(join(e2e, `${name}.txt`), `${name}.png\t${s.plate.x}\t${s.plate.y}\t${s.plate.width}\t${s.plate.height}\t${label}\n`);
  }
  const crops = join(root, 'ocr-crops-us');
  await mkdir(crops, { recursive: true });
  const rows = ['file,state,plate'];
  for (const [name, text] of [['p1', 'HTK 519'], ['p2', 'GA 2207']]) {
    const p = await renderPlate(text, 360, 90);
    await writeFile(join(crops, `${name}.png`), await sharp(p.data, { raw: { width: p.width, height: p.height, channels: 3 } }).png().toBuffer());
    rows.push(`${name}.png,xx,${text.replace(/\s/g, '')}`);
  }
  await writeFile(join(crops, 'groundtruth.csv'), rows.join('\n') + '\n');
}

t.test('anpr eval --json measures both layouts of a generated dataset', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'anpr-eval-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  await makeDataset(root);
  const { stdout } = await run(process.execPath, [bin, 'eval', '--dataset', root, '--models-dir', join(root, 'no-models'), '--json'], { maxBuffer: 1 << 24 });
  const r = JSON.parse(stdout);
  t.equal(r.images, 3);
  t.equal(r.detection_recall, 1, 'every rendered plate is found');
  t.ok(Math.abs(r.exact - 2 / 3) < 1e-3, 'two of three right: the third label is wrong');
  t.same(Object.keys(r.per_engine).sort(), ['fast-plate-ocr', 'paddle-ocr', 'tesseract'], 'the models shipped in models/ and on npm');
  t.ok(r.char_accuracy > 0.5 && r.char_accuracy < 1);
  for (const k of ['plates', 'consensus', 'total']) t.ok(r.latency_ms[k].p50 > 0 && r.latency_ms[k].p95 >= r.latency_ms[k].p50, `latency ${k}`);
  t.ok(r.latency_ms.read['paddle-ocr'].p50 > 0);
  t.equal(r.failures.length, 1);
  t.match(r.failures[0], { file: 'us/c.png', expected: 'WRONG1', got: 'MZW904', detected: true });
  t.equal(r.failures[0].per_engine['paddle-ocr'], 'MZW904', 'the failure says what each engine read');
  // The wrongly labelled plate is a false read: a reported plate that matches no label of its image.
  t.ok(r.failures[0].false_reads.includes('MZW904'));
  t.ok(r.false_reads >= 1);
  t.equal(r.false_reads_per_image, Math.round((r.false_reads / 3) * 1000) / 1000);
  t.equal(r.per_region.us.false_reads, r.false_reads);
  t.ok(r.false_read_images.some((x: { file: string }) => x.file === 'us/c.png'));
  const crops = r.datasets['ocr-crops-us'];
  t.equal(crops.images, 2);
  t.equal(crops.exact, 1);
  t.equal(crops.false_reads, 0);
  t.equal(crops.detection_recall, null);
});

t.test('anpr eval without a dataset is a usage error', async (t) => {
  const err = await run(process.execPath, [bin, 'eval']).catch((e) => e);
  t.equal(err.code, 1);
  t.match(err.stderr, /missing --dataset/);
  const missing = await run(process.execPath, [bin, 'eval', '--dataset', '/nonexistent-dataset']).catch((e) => e);
  t.match(missing.stderr, /RESOURCE_NOT_FOUND/);
});

/** Photos for the live evaluation: one clear plate each, in three region folders, of three sizes. */
async function makeLiveDataset(root: string) {
  const photos: [string, string, string, { width: number; height: number; plateW: number; body: string }][] = [
    ['br', 'p1', 'BRA2E19', { width: 960, height: 540, plateW: 300, body: '#1d4f91' }],
    ['eu', 'p2', 'AB12CDE', { width: 1024, height: 768, plateW: 380, body: '#b01818' }],
    ['us', 'p3', 'KXR4821', { width: 1280, height: 720, plateW: 420, body: '#2f6b2f' }],
  ];
  for (const [region, name, text, o] of photos) {
    const dir = join(root, 'endtoend', region);
    await mkdir(dir, { recursive: true });
    const s = await renderScene(text, { ...o, plateY: Math.round(o.height * 0.62) });
    await sharp(s.png).jpeg({ quality: 92 }).toFile(join(dir, `${name}.jpg`));
    await writeFile(join(dir, `${name}.txt`), `${name}.jpg\t${s.plate.x}\t${s.plate.y}\t${s.plate.width}\t${s.plate.height}\t${text}\n`);
  }
}

const workDirs = async () => new Set((await readdir(tmpdir())).filter((f) => f.startsWith('anpr-live-eval-') && f !== 'anpr-live-eval-cache'));

t.test('anpr eval --live: the photos played as a camera to a real edge and cloud are read live, with latency, next to the stills', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'anpr-eval-live-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  await makeLiveDataset(root);
  const before = await workDirs();
  const { stdout } = await run(process.execPath, [bin, 'eval', '--live', '--dataset', root, '--json', '--per-region', '0', '--hold-s', '3'], {
    maxBuffer: 1 << 24,
    timeout: 240_000,
  });
  const r = JSON.parse(stdout);
  t.match(r, { dataset: root, regions: ['br', 'eu', 'us'], images: 3, hold_s: 3, camera_fps: 5, work_dir: null });
  t.equal(r.video.duration_s, 2 + 3 * 3 + 8);

  // Stills of the same photos.
  t.equal(r.stills.images, 3);
  t.equal(r.summary.stills.exact_n, 3, 'every clear plate is read in the stills');
  t.type(r.summary.stills.false_reads, 'number');
  t.ok(r.summary.stills.latency_ms.p50 > 0);

  // Live: the clear plates became events at the cloud, each once, with a decision latency.
  const live = r.summary.live;
  t.ok(live.exact_n >= 2, `at least the clear plates are read live (${live.exact_n}/3): ${JSON.stringify(r.live.photos)}`);
  t.ok(live.latency_ms.p50 > 0 && live.latency_ms.p95 >= live.latency_ms.p50, 'latency p50/p95');
  t.equal(live.duplicates, 0);
  t.same(Object.keys(live.per_region).sort(), ['br', 'eu', 'us']);
  t.same(
    r.live.photos.map((p: { file: string; expected: string }) => [p.file, p.expected]),
    [['br/p1.jpg', 'BRA2E19'], ['eu/p2.jpg', 'AB12CDE'], ['us/p3.jpg', 'KXR4821']],
  );
  for (const p of r.live.photos.filter((x: { read: boolean }) => x.read)) t.ok(p.latency_ms > 0, `${p.file} latency`);
  t.ok(r.live.events >= live.exact_n);
  t.type(r.live.stream_started_at, 'string');
  t.equal(r.live.stream_restarts, 0);
  t.ok(Array.isArray(r.live.extra_events));

  // Nothing left behind: the work dir is gone, and no process still serves the video.
  t.same(await workDirs(), before, 'no work dir left');
  t.ok(existsSync(r.video.file), 'the rendered video stays cached');
  const { stdout: ps } = await run('ps', ['-eo', 'args']);
  t.notOk(ps.includes(r.video.file), 'the RTSP server is stopped');
});
