/**
 * tesseract.js as a plate reader: single text line (PSM 7), LSTM engine, plate-character
 * whitelist. Language data comes from the local @tesseract.js-data/eng package with caching
 * off: tesseract.js would otherwise fetch it from a CDN, which this appliance never reaches.
 * tesseract.js runs its own worker thread, so recognition is already off the event loop.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import type TesseractNs from 'tesseract.js';
import { AppError } from '../../shared/errors.js';
import { PLATE_ALPHABET, normalizePlate } from '../../shared/plate/index.js';
import { clampBox, padBox, type RgbImage } from '../inference/image.js';
import { packageDir } from '../inference/package-dir.js';
import type { Box } from '../contracts.js';
import { ENGINE_TESSERACT, emptyRead, readFromChars, type EngineRead, type PlateReader, type ReadChar } from './types.js';

/** Where the bundled English data lives: `4.0.0_best_int` (LSTM only, 3 MB). */
export function tesseractLangPath(variant = '4.0.0_best_int'): string {
  const pkg = packageDir('@tesseract.js-data/eng');
  if (!pkg) throw new AppError('MODEL_MISSING', 'the npm package @tesseract.js-data/eng is not installed');
  const path = join(pkg, variant);
  if (!existsSync(join(path, 'eng.traineddata.gz')) && !existsSync(join(path, 'eng.traineddata'))) {
    throw new AppError('MODEL_MISSING', `tesseract English data not found in ${path}`);
  }
  return path;
}

export interface TesseractReaderOptions {
  langPath?: string;
  /** Plate crops are scaled to this height before recognition. */
  height?: number;
}

export class TesseractReader implements PlateReader {
  readonly name = ENGINE_TESSERACT;
  private worker?: TesseractNs.Worker;
  private readonly height: number;

  constructor(private readonly opts: TesseractReaderOptions = {}) {
    this.height = opts.height ?? 64;
  }

  async load(): Promise<void> {
    if (this.worker) return;
    const langPath = this.opts.langPath ?? tesseractLangPath();
    const { createWorker, OEM, PSM } = (await import('tesseract.js')).default;
    const worker = await createWorker('eng', OEM.LSTM_ONLY, {
      langPath,
      cacheMethod: 'none',
      gzip: existsSync(join(langPath, 'eng.traineddata.gz')),
      errorHandler: () => {},
    }, { load_system_dawg: '0', load_freq_dawg: '0' });
    await worker.setParameters({
      tessedit_pageseg_mode: PSM.SINGLE_LINE,
      tessedit_char_whitelist: PLATE_ALPHABET,
      user_defined_dpi: '300',
    });
    this.worker = worker;
  }

  async read(image: RgbImage, boxes: Box[]): Promise<EngineRead[]> {
    if (!this.worker) throw new Error('TesseractReader.load() was not called');
    const reads: EngineRead[] = [];
    for (const b of boxes) reads.push(await this.readOne(image, b));
    return reads;
  }

  private async readOne(image: RgbImage, box: Box): Promise<EngineRead> {
    const c = clampBox(padBox(box, 0.02, 0.05), image.width, image.height);
    const png = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
      .extract({ left: c.x, top: c.y, width: c.width, height: c.height })
      .greyscale()
      .resize({ height: this.height, kernel: 'cubic' })
      .normalise()
      .extend({ top: 8, bottom: 8, left: 8, right: 8, extendWith: 'copy' })
      .png({ compressionLevel: 0 })
      .toBuffer();
    const { data } = await this.worker!.recognize(png, {}, { text: true, blocks: true });
    const chars: ReadChar[] = [];
    for (const block of data.blocks ?? [])
      for (const para of block.paragraphs)
        for (const line of para.lines)
          for (const word of line.words)
            for (const sym of word.symbols) {
              const ch = normalizePlate(sym.text);
              for (const x of ch) chars.push({ char: x, confidence: Math.max(0, Math.min(1, sym.confidence / 100)) });
            }
    return chars.length ? readFromChars(ENGINE_TESSERACT, chars) : emptyRead(ENGINE_TESSERACT);
  }

  async dispose(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    await w?.terminate();
  }
}
