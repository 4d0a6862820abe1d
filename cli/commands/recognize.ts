import type { Command } from '../command.js';
import { str } from '../command.js';
import { AppError } from '../../shared/errors.js';

const command: Command = {
  name: 'recognize',
  summary: 'Find and read number plates in still images',
  args: 'IMAGE…',
  details: 'Prints each plate with its box, every engine\'s read and the consensus. Models: the npm-shipped\nPP-OCRv4 and tesseract always; fast-plate-ocr and FastestDet when installed or in --mirror.',
  options: {
    mirror: { type: 'string', arg: 'DIR', description: 'Local model mirror (e.g. ../shared/models)' },
    'models-dir': { type: 'string', arg: 'DIR', description: 'Installed models folder (default models/cache/)' },
    regions: { type: 'string', arg: 'LIST', description: 'Plate-format regions, comma-separated (us, eu, br, lt)' },
    engines: { type: 'string', arg: 'LIST', description: 'Comma-separated engines (default: all installed)' },
    json: { type: 'boolean', description: 'Print one JSON object per image, one per line' },
  },
  async run(parsed) {
    if (parsed.positionals.length === 0) throw new AppError('INVALID_REQUEST', 'missing argument IMAGE');
    const { readFile } = await import('node:fs/promises');
    const { createRecognizer } = await import('../../edge/recognize/index.js');
    const list = (name: string) => str(parsed, name)?.split(',').map((s) => s.trim()).filter(Boolean);
    const rec = await createRecognizer({ mirror: str(parsed, 'mirror'), modelsDir: str(parsed, 'models-dir'), engines: list('engines'), regions: list('regions') });
    let failed = 0;
    try {
      for (const file of parsed.positionals) {
        let bytes: Buffer;
        try {
          bytes = await readFile(file);
        } catch (e) {
          console.error(`anpr recognize: ${file}: ${(e as Error).message}`);
          failed++;
          continue;
        }
        const r = await rec.recognizeImage(bytes);
        if (parsed.values.json === true) {
          console.log(JSON.stringify({ image: file, ...r }));
          continue;
        }
        console.log(`${file}: ${r.width}×${r.height}, ${r.plates.length} plate(s), ${r.timings.total} ms`);
        for (const p of r.plates) {
          const b = p.box;
          console.log(`  ${p.plateText}  confidence ${p.confidence.toFixed(2)}${p.format ? `  format ${p.format}` : ''}  box ${Math.round(b.x)},${Math.round(b.y)} ${Math.round(b.width)}×${Math.round(b.height)}`);
          for (const c of p.rawCandidates) console.log(`    ${c.model.padEnd(15)} ${(c.text || '(nothing)').padEnd(10)} ${c.confidence.toFixed(2)}`);
          if (p.vehicle) console.log(`    vehicle: ${p.vehicle.type}${p.vehicle.color ? `, ${p.vehicle.color}` : ''} (${p.vehicle.confidence.toFixed(2)})`);
        }
      }
    } finally {
      await rec.dispose();
    }
    return failed ? 1 : 0;
  },
};
export default command;
