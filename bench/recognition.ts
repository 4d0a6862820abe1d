/**
 * Recognition latency: one 1920×1080 frame through every stage (decode excluded: frames
 * arrive decoded from ffmpeg), every engine on, against a named baseline — the same pipeline
 * with fast-plate-ocr as the only reader.
 *
 *   npx tsx bench/recognition.ts [--mirror ../shared/models] [--image FILE] [--runs 30]
 *
 * With --image, the photo is scaled to 1920×1080 (a real scene); otherwise a rendered scene
 * is used. Prints p50/p95 per stage and total, and the ratio to the baseline.
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { createRecognizer, type FrameAnalysis } from '../edge/recognize/index.js';
import { percentiles } from '../edge/recognize/evaluate.js';

const { values } = parseArgs({
  options: {
    mirror: { type: 'string', default: existsSync('../shared/models') ? '../shared/models' : undefined },
    image: { type: 'string' },
    runs: { type: 'string', default: '30' },
    json: { type: 'boolean', default: false },
  },
});
const runs = Math.max(3, Number(values.runs));

async function frame(): Promise<{ width: number; height: number; data: Buffer }> {
  const src = values.image
    ? await readFile(values.image)
    : await sharp({ create: { width: 1920, height: 1080, channels: 3, background: '#6d6d6a' } })
        .composite([
          { input: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="900" height="420"><rect width="900" height="420" rx="60" fill="#2a4a8a"/></svg>'), left: 510, top: 480 },
          {
            input: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="300" height="70"><rect x="2" y="2" width="296" height="66" rx="8" fill="#f4f4f0" stroke="#111" stroke-width="4"/><text x="150" y="38" dominant-baseline="middle" text-anchor="middle" font-family="DejaVu Sans Mono" font-weight="bold" font-size="46" fill="#111">7KQR 512</text></svg>'),
            left: 810,
            top: 760,
          },
        ])
        .png()
        .toBuffer();
  const { data, info } = await sharp(src).resize(1920, 1080, { fit: 'fill' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data };
}

async function measure(engines: string[] | undefined, img: Awaited<ReturnType<typeof frame>>) {
  const rec = await createRecognizer({ mirror: values.mirror, engines });
  try {
    for (let i = 0; i < 3; i++) await rec.analyze(img); // warm-up: first runs plan the graphs
    const samples: FrameAnalysis['timings'][] = [];
    let last: FrameAnalysis | undefined;
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < runs; i++) {
      last = await rec.analyze(img);
      samples.push(last.timings);
    }
    const cpu = process.cpuUsage(cpu0);
    const stage = (f: (t: FrameAnalysis['timings']) => number | undefined) => percentiles(samples.map(f).filter((x): x is number => x !== undefined));
    const read: Record<string, ReturnType<typeof percentiles>> = {};
    for (const e of rec.engines) read[e] = stage((t) => t.read[e]);
    return {
      engines: rec.engines,
      plates: last?.plates.map((p) => p.plateText) ?? [],
      vehicles: stage((t) => t.vehicles),
      plates_ms: stage((t) => t.plates),
      read,
      consensus: stage((t) => t.consensus),
      total: stage((t) => t.total),
      /** CPU time per frame over every thread of the process (workers included): what the frame costs whatever else runs. */
      cpu_ms_per_frame: Math.round((cpu.user + cpu.system) / 1000 / runs),
    };
  } finally {
    await rec.dispose();
  }
}

const img = await frame();
const all = await measure(undefined, img);
const baseline = await measure(all.engines.includes('fast-plate-ocr') ? ['fast-plate-ocr'] : [all.engines[0]], img);
const report = { frame: '1920x1080', runs, load_average: os.loadavg()[0], cores: os.cpus().length, all_engines: all, baseline: { name: `${baseline.engines.join('+')} only`, ...baseline }, ratio_p50: Math.round((all.total.p50 / baseline.total.p50) * 100) / 100 };
if (values.json) console.log(JSON.stringify(report, null, 2));
else {
  const fmt = (p: { p50: number; p95: number }) => `p50 ${p.p50} ms, p95 ${p.p95} ms`;
  console.log(`recognition, 1920×1080 frame, ${runs} runs (read: ${all.plates.join(', ') || 'nothing'})`);
  console.log(`  all engines (${all.engines.join(', ')}): total ${fmt(all.total)}`);
  console.log(`    vehicles ${fmt(all.vehicles)}; plates ${fmt(all.plates_ms)}; consensus ${fmt(all.consensus)}`);
  for (const [e, p] of Object.entries(all.read)) console.log(`    read ${e}: ${fmt(p)}`);
  console.log(`    CPU time per frame, all threads: ${all.cpu_ms_per_frame} ms (load average now ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores)`);
  console.log(`  baseline (${report.baseline.name}): total ${fmt(baseline.total)}, CPU ${baseline.cpu_ms_per_frame} ms per frame`);
  console.log(`  ratio all/baseline (p50): ${report.ratio_p50}×`);
}
