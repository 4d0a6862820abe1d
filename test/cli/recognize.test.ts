import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { renderScene } from '../edge/recognize/fixtures.js';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../../bin/anpr.js', import.meta.url));

t.test('anpr recognize prints boxes, per-engine reads and the consensus', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'anpr-rec-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const img = join(dir, 'car.png');
  await writeFile(img, (await renderScene('LTK 350')).png);
  const args = [bin, 'recognize', img, '--models-dir', join(dir, 'none'), '--regions', 'lt'];
  const text = await run(process.execPath, args);
  t.match(text.stdout, /LTK350\s+confidence \d\.\d\d\s+format lt\s+box \d+,\d+ \d+×\d+/);
  t.match(text.stdout, /paddle-ocr\s+LTK350/);
  const json = await run(process.execPath, [...args, '--json']);
  const r = JSON.parse(json.stdout.trim().split('\n')[0]);
  t.equal(r.image, img);
  t.equal(r.plates[0].plateText, 'LTK350');
  t.equal(r.plates[0].format, 'lt');
  t.ok(Array.isArray(r.plates[0].votes));
  t.same(r.plates[0].rawCandidates.map((c: { model: string }) => c.model), ['fast-plate-ocr', 'paddle-ocr', 'tesseract'], 'every engine runs out of the box');
});

t.test('a missing file fails with exit 1, an unknown region is a config error', async (t) => {
  const err = await run(process.execPath, [bin, 'recognize', '/nonexistent.jpg', '--models-dir', '/nonexistent']).catch((e) => e);
  t.equal(err.code, 1);
  t.match(err.stderr, /nonexistent\.jpg/);
  const bad = await run(process.execPath, [bin, 'recognize', '/nonexistent.jpg', '--regions', 'xx']).catch((e) => e);
  t.match(bad.stderr, /CONFIG_INVALID.*unknown plate region 'xx'/);
});
