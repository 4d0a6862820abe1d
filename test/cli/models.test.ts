import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { hasMirror, MIRROR, NO_MIRROR } from '../edge/recognize/fixtures.js';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../../bin/anpr.js', import.meta.url));

async function tmp(t: { teardown(fn: () => unknown): void }) {
  const dir = await mkdtemp(join(tmpdir(), 'anpr-models-cli-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

t.test('models list and verify: npm models ok, mirror models optional', async (t) => {
  const dir = await tmp(t);
  const list = JSON.parse((await run(process.execPath, [bin, 'models', 'list', '--models-dir', dir, '--json'])).stdout);
  const by = Object.fromEntries(list.map((m: { id: string; state: string }) => [m.id, m.state]));
  t.equal(by['ppocr-det'], 'ok');
  t.equal(by['tesseract-eng'], 'ok');
  t.equal(by['fast-plate-ocr'], 'missing');
  const v = await run(process.execPath, [bin, 'models', 'verify', '--models-dir', dir]);
  t.match(v.stdout, /fast-plate-ocr\s+missing\s+\(optional/);
});

t.test('fetch from a mirror with a corrupt file installs nothing and exits 1', async (t) => {
  const dir = await tmp(t);
  const mirror = join(dir, 'mirror');
  await mkdir(mirror);
  await writeFile(join(mirror, 'cct_xs_v1_global.onnx'), 'corrupt');
  await writeFile(join(mirror, 'FastestDet.onnx'), 'corrupt');
  const err = await run(process.execPath, [bin, 'models', 'fetch', '--models-dir', join(dir, 'models'), '--mirror', mirror]).catch((e) => e);
  t.equal(err.code, 1);
  t.match(err.stderr, /CHECKSUM_MISMATCH.*nothing installed/);
  t.same(await readdir(join(dir, 'models')), []);
});

t.test('fetch from the real mirror, then verify', { skip: hasMirror ? false : NO_MIRROR }, async (t) => {
  const dir = await tmp(t);
  const f = await run(process.execPath, [bin, 'models', 'fetch', '--models-dir', dir, '--mirror', MIRROR]);
  t.match(f.stdout, /fast-plate-ocr: installed/);
  t.match(f.stdout, /fastestdet: installed/);
  const v = await run(process.execPath, [bin, 'models', 'verify', '--models-dir', dir]);
  t.match(v.stdout, /fast-plate-ocr\s+ok/);
  t.match(v.stdout, /fastestdet\s+ok/);
});
