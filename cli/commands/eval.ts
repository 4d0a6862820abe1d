import type { Command, Parsed } from '../command.js';
import { int, positive, str } from '../command.js';
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
    'under "datasets". false_reads counts reported plates (any, not only the top one) that match no label of',
    'their image.',
    '',
    'With --live, the real edge → cloud path: the first --per-region photos of each endtoend/<region>/ folder',
    'become a 1920x1080 H.264 video (each photo held --hold-s seconds; cached in the temp dir), served over',
    'RTSP to a real `anpr edge` whose camera is created through a real `anpr cloud`\'s config API; events are',
    'collected from the cloud\'s WebSocket and scored per photo: exact, extra events, duplicates and decision',
    'latency (the photo\'s first frame on the stream → its event at the cloud). The stills figure of the same',
    'photos and regions is printed next to it. Every process started is stopped at the end or on Ctrl-C.',
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
    live: { type: 'boolean', description: 'Evaluate the live edge → cloud path on a video of the photos' },
    'per-region': { type: 'string', arg: 'N', description: 'Live: photos per region folder, 0 = all', default: '8' },
    'hold-s': { type: 'string', arg: 'S', description: 'Live: seconds each photo is on screen', default: '3' },
    fps: { type: 'string', arg: 'N', description: 'Live: frames per second the edge analyses (the camera\'s fps)', default: '5' },
    regions: { type: 'string', arg: 'LIST', description: 'Live: plate regions for the edge and the stills (default: the region folders found)' },
    keep: { type: 'string', arg: 'DIR', description: 'Live: keep the work dir (cloud and edge data, edge log) in DIR' },
  },
  async run(parsed) {
    const dataset = str(parsed, 'dataset');
    if (!dataset) throw new AppError('INVALID_REQUEST', 'missing --dataset DIR');
    const { existsSync } = await import('node:fs');
    if (!existsSync(dataset)) throw new AppError('RESOURCE_NOT_FOUND', `dataset folder not found: ${dataset}`);
    if (parsed.values.live === true) return runLive(parsed, dataset);
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
        console.log(`  false reads ${r.false_reads} (${r.false_reads_per_image} per image)`);
        console.log(`  per engine: ${Object.entries(r.per_engine).map(([e, x]) => `${e} ${pct(x)}`).join(', ')}`);
        if (r.per_region) console.log(`  per region: ${Object.entries(r.per_region).map(([g, x]) => `${g} ${pct(x.exact)} (${x.images}, ${x.false_reads} false)`).join(', ')}`);
        const total = r.latency_ms.total as { p50: number; p95: number } | undefined;
        if (total) console.log(`  latency total p50 ${total.p50} ms, p95 ${total.p95} ms`);
        console.log(`  failures: ${r.failures.length}`);
        for (const f of r.failures.slice(0, 15)) console.log(`    ${f.file}: expected ${f.expected}, got ${f.got || '(nothing)'}  [${Object.entries(f.per_engine).map(([e, t]) => `${e}=${t}`).join(' ')}]`);
        const fr = r.false_read_images ?? [];
        if (fr.length) console.log(`  false reads: ${fr.slice(0, 15).map((x) => `${x.file} ${x.false_reads.join('/')}`).join(', ')}${fr.length > 15 ? ', …' : ''}`);
      }
    } finally {
      await rec.dispose();
    }
  },
};
async function runLive(parsed: Parsed, dataset: string): Promise<number> {
  const { runLiveEval } = await import('../../edge/recognize/live-eval/run.js');
  const { formatLiveReport } = await import('../../edge/recognize/live-eval/report.js');
  const ac = new AbortController();
  const onSignal = () => ac.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const report = await runLiveEval({
      dataset,
      perRegion: int(parsed, 'per-region', 0) ?? 8,
      holdS: positive(parsed, 'hold-s') ?? 3,
      fps: int(parsed, 'fps', 1, 30) ?? 5,
      regions: str(parsed, 'regions')?.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean),
      mirror: str(parsed, 'mirror'),
      keep: str(parsed, 'keep'),
      signal: ac.signal,
      progress: (line) => process.stderr.write(`${line}\n`),
    });
    if (parsed.values.json === true) console.log(JSON.stringify(report, null, 2));
    else for (const line of formatLiveReport(report)) console.log(line);
    return 0;
  } catch (e) {
    if (ac.signal.aborted) {
      process.stderr.write('eval --live: interrupted; everything it started is stopped\n');
      return 130;
    }
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export default command;
