import type { Command } from '../command.js';
import { int, str } from '../command.js';
import { AppError } from '../../shared/errors.js';

export function plateSearch(v: string | undefined): 'frame' | 'vehicles' {
  if (v === undefined || v === 'frame' || v === 'vehicles') return v ?? 'frame';
  throw new AppError('INVALID_REQUEST', `--plate-search must be 'frame' or 'vehicles', got '${v}'`);
}

const command: Command = {
  name: 'eval',
  summary: 'Measure recognition accuracy and latency on a labelled dataset',
  details: [
    'Reads the OpenALPR benchmark layouts found under --dataset: endtoend/<region>/ photos with .txt labels,',
    'and crop folders with groundtruth.csv (e.g. ocr-crops-us). Region folders (us, eu, br, lt) set the',
    'plate formats of their images. With --json, prints one JSON object: images, detection_recall (IoU > 0.4),',
    'exact, per_engine, char_accuracy, latency_ms (p50/p95 per stage and total), failures, and every layout',
    'under "datasets".',
  ].join('\n'),
  args: '--dataset DIR',
  options: {
    dataset: { type: 'string', arg: 'DIR', description: 'Dataset folder (e.g. ../shared/datasets/openalpr-dev)' },
    mirror: { type: 'string', arg: 'DIR', description: 'Local model mirror (e.g. ../shared/models)' },
    'models-dir': { type: 'string', arg: 'DIR', description: 'Installed models folder (default models/cache/)' },
    engines: { type: 'string', arg: 'LIST', description: 'Comma-separated engines (default: all installed)' },
    limit: { type: 'string', arg: 'N', description: 'At most N images per layout' },
    'plate-search': { type: 'string', arg: 'MODE', description: "Plate search: 'frame' (whole image) or 'vehicles' (inside FastestDet boxes)", default: 'frame' },
    json: { type: 'boolean', description: 'Print one JSON object' },
  },
  async run(parsed) {
    const dataset = str(parsed, 'dataset');
    if (!dataset) throw new AppError('INVALID_REQUEST', 'missing --dataset DIR');
    const { existsSync } = await import('node:fs');
    if (!existsSync(dataset)) throw new AppError('RESOURCE_NOT_FOUND', `dataset folder not found: ${dataset}`);
    const { createRecognizer } = await import('../../edge/recognize/index.js');
    const { evaluateDataset, findLayouts } = await import('../../edge/recognize/evaluate.js');
    if ((await findLayouts(dataset)).length === 0) throw new AppError('INVALID_REQUEST', `no labelled images found under ${dataset}`);
    const json = parsed.values.json === true;
    const rec = await createRecognizer({
      mirror: str(parsed, 'mirror'),
      modelsDir: str(parsed, 'models-dir'),
      engines: str(parsed, 'engines')?.split(',').map((s) => s.trim()).filter(Boolean),
      plateSearch: plateSearch(str(parsed, 'plate-search')),
    });
    try {
      const report = await evaluateDataset(rec, dataset, {
        limit: int(parsed, 'limit', 1),
        onLayout: (name, n) => process.stderr.write(`eval: ${name}: ${n} images\n`),
        onImage: process.stderr.isTTY ? (d, n) => process.stderr.write(`\r  ${d}/${n}`) : undefined,
      });
      if (process.stderr.isTTY) process.stderr.write('\n');
      if (json) {
        console.log(JSON.stringify(report, null, 2));
        return;
      }
      for (const [name, r] of Object.entries(report.datasets)) {
        const pct = (x: number | null) => (x === null ? '-' : `${(x * 100).toFixed(1)}%`);
        console.log(`${name} (${r.layout}, ${r.images} images)`);
        console.log(`  exact ${pct(r.exact)}  detection recall ${pct(r.detection_recall)}  char accuracy ${pct(r.char_accuracy)}`);
        console.log(`  per engine: ${Object.entries(r.per_engine).map(([e, x]) => `${e} ${pct(x)}`).join(', ')}`);
        if (r.per_region) console.log(`  per region: ${Object.entries(r.per_region).map(([g, x]) => `${g} ${pct(x.exact)} (${x.images})`).join(', ')}`);
        const total = r.latency_ms.total as { p50: number; p95: number } | undefined;
        if (total) console.log(`  latency total p50 ${total.p50} ms, p95 ${total.p95} ms`);
        console.log(`  failures: ${r.failures.length}`);
        for (const f of r.failures.slice(0, 15)) console.log(`    ${f.file}: expected ${f.expected}, got ${f.got || '(nothing)'}  [${Object.entries(f.per_engine).map(([e, t]) => `${e}=${t}`).join(' ')}]`);
      }
    } finally {
      await rec.dispose();
    }
  },
};
export default command;
