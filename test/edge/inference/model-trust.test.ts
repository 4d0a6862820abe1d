/**
 * Model trust: a plate detector named by the cloud (`weights_path`, `sha256`) is loaded only from
 * inside the models directory and only when its sha256 matches.
 */
import t from 'tap';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readVerifiedModel, sha256 } from '../../../edge/inference/model-store.js';
import { recognizerOptions } from '../../../edge/daemon/models.js';
import { createRecognizer } from '../../../edge/recognize/index.js';
import { parseEdgeConfig } from '../../../edge/config/load.js';
import { tempDir } from '../../fixtures/media.js';
import { onnxModel } from '../recognize/fixtures.js';

// A real (tiny) ONNX model: loading it proves the verified bytes are what reaches the runtime.
const model = onnxModel([{ op: 'Identity', inputs: ['x'], outputs: ['y'] }], [['x', 'float', [1, 3, 8, 8]]], [['y', 'float', [1, 3, 8, 8]]]);
const good = sha256(model);

function setup(t: { teardown(fn: () => void): void }) {
  const root = tempDir(t, 'anpr-trust-');
  const modelsDir = join(root, 'models');
  mkdirSync(join(modelsDir, 'plates'), { recursive: true });
  writeFileSync(join(modelsDir, 'plates', 'det.onnx'), model);
  // The attacker's file, outside the models dir, with its own (matching) checksum.
  writeFileSync(join(root, 'evil.onnx'), model);
  symlinkSync(join(root, 'evil.onnx'), join(modelsDir, 'link.onnx'));
  const cfg = parseEdgeConfig({ edge_id: 'trust', data_dir: join(root, 'data'), models: { dir: modelsDir } });
  return { root, modelsDir, cfg };
}

const plate = (weights_path: string, sha?: string) => ({ id: 'pd', name: 'plates', type: 'plate_detector', weights_path, ...(sha ? { sha256: sha } : {}) });

t.test('readVerifiedModel: inside the models dir and matching, or a typed error', async (t) => {
  const { root, modelsDir } = setup(t);
  t.same(await readVerifiedModel(modelsDir, 'plates/det.onnx', good), model);
  await t.rejects(readVerifiedModel(modelsDir, 'plates/det.onnx', 'f'.repeat(64)), { code: 'CHECKSUM_MISMATCH' });
  await t.rejects(readVerifiedModel(modelsDir, join(root, 'evil.onnx'), good), { code: 'CONFIG_INVALID', message: /inside the models directory/ }, 'absolute path');
  await t.rejects(readVerifiedModel(modelsDir, '../evil.onnx', good), { code: 'CONFIG_INVALID' }, 'parent path');
  await t.rejects(readVerifiedModel(modelsDir, 'plates/../../evil.onnx', good), { code: 'CONFIG_INVALID' }, 'parent inside the path');
  await t.rejects(readVerifiedModel(modelsDir, 'link.onnx', good), { code: 'CONFIG_INVALID', message: /leads outside/ }, 'symlink out of the dir');
  await t.rejects(readVerifiedModel(modelsDir, 'plates/none.onnx', good), { code: 'MODEL_MISSING' });
  await t.rejects(readVerifiedModel(modelsDir, 'plates/det.onnx', 'not-a-hash'), { code: 'CONFIG_INVALID' });
});

t.test('a cloud plate detector without sha256 is refused before anything loads', async (t) => {
  const { cfg } = setup(t);
  t.throws(() => recognizerOptions(cfg, [plate('plates/det.onnx')]), { code: 'CONFIG_INVALID', message: /sha256 is required/ });
  t.same(recognizerOptions(cfg, [plate('plates/det.onnx', good)]).plateDetectorModel, { file: 'plates/det.onnx', sha256: good });
});

t.test('the recognizer loads the cloud plate detector only when it is inside the models dir and matches', async (t) => {
  const { root, cfg } = setup(t);
  const build = (m: ReturnType<typeof plate>) => createRecognizer({ ...recognizerOptions(cfg, [m]), engines: ['fast-plate-ocr'], vehicles: false, warmUp: false });
  await t.rejects(build(plate(join(root, 'evil.onnx'), good)), { code: 'CONFIG_INVALID' }, 'an absolute weights_path (the attack) is not loaded');
  await t.rejects(build(plate('../evil.onnx', good)), { code: 'CONFIG_INVALID' });
  await t.rejects(build(plate('plates/det.onnx', 'a'.repeat(64))), { code: 'CHECKSUM_MISMATCH' });
  const r = await build(plate('plates/det.onnx', good));
  t.teardown(() => r.dispose());
  t.same(r.engines, ['fast-plate-ocr'], 'built with the verified plate detector');
});
