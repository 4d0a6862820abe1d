import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../../bin/anpr.js', import.meta.url));

async function tmp(t: { teardown(fn: () => unknown): void }) {
  const dir = await mkdtemp(join(tmpdir(), 'anpr-models-cli-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

t.test('models list and verify: every model ships (npm or project), no fetch needed', async (t) => {
  const dir = await tmp(t);
  const list = JSON.parse((await run(process.execPath, [bin, 'models', 'list', '--models-dir', dir, '--json'])).stdout);
  const by = Object.fromEntries(list.map((m: { id: string; state: string; origin: string }) => [m.id, `${m.state}/${m.origin}`]));
  t.equal(by['ppocr-det'], 'ok/npm');
  t.equal(by['tesseract-eng'], 'ok/npm');
  t.equal(by['fast-plate-ocr'], 'ok/project');
  t.equal(by['fastestdet'], 'ok/project');
  const v = await run(process.execPath, [bin, 'models', 'verify', '--models-dir', dir]);
  t.match(v.stdout, /fast-plate-ocr\s+ok/);
  t.match(v.stdout, /fastestdet\s+ok/);
});

t.test('fetch has nothing to install and touches nothing (no download is attempted)', async (t) => {
  const dir = await tmp(t);
  const f = await run(process.execPath, [bin, 'models', 'fetch', '--models-dir', join(dir, 'models')]);
  t.match(f.stdout, /nothing to fetch/);
  t.same(await readdir(join(dir, 'models')), []);
});
