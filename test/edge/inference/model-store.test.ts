import t from 'tap';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ModelStore, loadManifest, sha256, type Manifest } from '../../../edge/inference/model-store.js';

const good = Buffer.from('tiny model bytes for the test');
function manifest(hash = sha256(good)): Manifest {
  return {
    version: 1,
    models: [
      { id: 'tiny', task: 'test', format: 'onnx', file: 'tiny.onnx', source: { mirror: 'tiny.onnx' }, url: 'https://example.invalid/tiny.onnx', sha256: hash, bytes: good.length, licence: 'MIT', input: null, labels: null },
      { id: 'other', task: 'test', format: 'onnx', file: 'other.onnx', source: { mirror: 'other.onnx' }, url: 'https://example.invalid/other.onnx', sha256: sha256(Buffer.from('other')), bytes: 5, licence: 'MIT', input: null, labels: null },
    ],
  };
}

async function dirs(t: { teardown(fn: () => unknown): void }) {
  const root = await mkdtemp(join(tmpdir(), 'anpr-models-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  return { mirror: join(root, 'mirror'), modelsDir: join(root, 'models') };
}

t.test('the shipped manifest is valid; npm and project models are found and verified', async (t) => {
  const m = await loadManifest();
  const ids = m.models.map((x) => x.id);
  for (const id of ['ppocr-det', 'ppocr-rec', 'tesseract-eng', 'fast-plate-ocr', 'fastestdet']) t.ok(ids.includes(id), id);
  const store = new ModelStore(m, { modelsDir: '/nonexistent' });
  t.equal((await store.status('ppocr-det')).state, 'ok', 'npm model found and verified');
  for (const id of ['fast-plate-ocr', 'fastestdet']) {
    const s = await store.status(id);
    t.same([s.state, s.origin], ['ok', 'project'], `${id} ships with the project`);
    t.ok(existsSync(join(dirname(s.path!), 'LICENSE')), `${id}: its licence file is beside it`);
  }
  const { modelsDir } = await dirs(t);
  const fresh = new ModelStore(m, { modelsDir });
  t.same(await fresh.fetch({ download: async () => t.fail('nothing may be downloaded') as never }), [], 'fetch has nothing to install');
});

t.test('fetch from a mirror installs verified files only', async (t) => {
  const { mirror, modelsDir } = await dirs(t);
  await import('node:fs/promises').then((fs) => fs.mkdir(mirror, { recursive: true }));
  await writeFile(join(mirror, 'tiny.onnx'), good);
  await writeFile(join(mirror, 'other.onnx'), 'other');
  const store = new ModelStore(manifest(), { modelsDir });
  const res = await store.fetch({ mirror });
  t.same(res.map((r) => r.action), ['installed', 'installed']);
  t.equal(await store.path('tiny'), join(modelsDir, 'tiny.onnx'));
  const again = await store.fetch({ mirror });
  t.same(again.map((r) => r.action), ['present', 'present'], 'a second fetch installs nothing');
  // A file altered after installation is never used.
  await writeFile(join(modelsDir, 'tiny.onnx'), 'tampered');
  const fresh = new ModelStore(manifest(), { modelsDir });
  t.equal((await fresh.status('tiny')).state, 'checksum-mismatch');
  t.equal(await fresh.path('tiny'), undefined);
  await t.rejects(fresh.require('tiny'), { code: 'CHECKSUM_MISMATCH' });
});

t.test('a checksum mismatch is an error and nothing is installed', async (t) => {
  const { mirror, modelsDir } = await dirs(t);
  await import('node:fs/promises').then((fs) => fs.mkdir(mirror, { recursive: true }));
  await writeFile(join(mirror, 'tiny.onnx'), good);
  await writeFile(join(mirror, 'other.onnx'), 'not the right bytes');
  const store = new ModelStore(manifest(), { modelsDir });
  await t.rejects(store.fetch({ mirror }), { code: 'CHECKSUM_MISMATCH', message: /other.*nothing installed/ });
  t.same(await readdir(modelsDir), [], 'not even the good file');
});

t.test('without a mirror, models are downloaded from their upstream URL and verified', async (t) => {
  const { modelsDir } = await dirs(t);
  const urls: string[] = [];
  const store = new ModelStore(manifest(), { modelsDir });
  await store.fetch({ download: async (url) => (urls.push(url), url.endsWith('tiny.onnx') ? good : Buffer.from('other')) });
  t.same(urls, ['https://example.invalid/tiny.onnx', 'https://example.invalid/other.onnx']);
  t.equal((await store.status('tiny')).origin, 'models-dir');
  const bad = new ModelStore(manifest(sha256(Buffer.from('x'))), { modelsDir: join(modelsDir, 'b') });
  await t.rejects(bad.fetch({ download: async () => good }), { code: 'CHECKSUM_MISMATCH' });
});

t.test('a model found only in the mirror is used in place', async (t) => {
  const { mirror, modelsDir } = await dirs(t);
  await import('node:fs/promises').then((fs) => fs.mkdir(mirror, { recursive: true }));
  await writeFile(join(mirror, 'tiny.onnx'), good);
  const store = new ModelStore(manifest(), { modelsDir, mirror });
  const s = await store.status('tiny');
  t.equal(s.origin, 'mirror');
  t.equal(s.path, join(mirror, 'tiny.onnx'));
});
