import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
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
  t.same(Object.keys(r.per_engine).sort(), ['paddle-ocr', 'tesseract']);
  t.ok(r.char_accuracy > 0.5 && r.char_accuracy < 1);
  for (const k of ['plates', 'consensus', 'total']) t.ok(r.latency_ms[k].p50 > 0 && r.latency_ms[k].p95 >= r.latency_ms[k].p50, `latency ${k}`);
  t.ok(r.latency_ms.read['paddle-ocr'].p50 > 0);
  t.equal(r.failures.length, 1);
  t.match(r.failures[0], { file: 'us/c.png', expected: 'WRONG1', got: 'MZW904', detected: true });
  t.equal(r.failures[0].per_engine['paddle-ocr'], 'MZW904', 'the failure says what each engine read');
  const crops = r.datasets['ocr-crops-us'];
  t.equal(crops.images, 2);
  t.equal(crops.exact, 1);
  t.equal(crops.detection_recall, null);
});

t.test('anpr eval without a dataset is a usage error', async (t) => {
  const err = await run(process.execPath, [bin, 'eval']).catch((e) => e);
  t.equal(err.code, 1);
  t.match(err.stderr, /missing --dataset/);
  const missing = await run(process.execPath, [bin, 'eval', '--dataset', '/nonexistent-dataset']).catch((e) => e);
  t.match(missing.stderr, /RESOURCE_NOT_FOUND/);
});
