/**
 * Reading stage contracts. A reader turns plate boxes of an image into one read per box;
 * each read carries per-character confidences and, where the engine exposes them, the
 * runner-up characters, which the consensus uses to settle look-alikes.
 */
import type { RgbImage } from '../inference/image.js';
import type { Box } from '../contracts.js';

/** One character position of a read. */
export interface ReadChar {
  char: string;
  confidence: number;
  /** Other characters the engine considered here, with their probabilities (best first); '' = no character. */
  alternatives?: { char: string; p: number }[];
}

/** One engine's read of one plate box (normalised: A–Z, 0–9 only). */
export interface EngineRead {
  engine: string;
  text: string;
  /** Whole-read confidence, 0..1. */
  confidence: number;
  chars: ReadChar[];
}

export interface PlateReader {
  /** Engine name as reported in raw_candidates. */
  readonly name: string;
  load(): Promise<void>;
  /** Reads every box of `image` (batched where the engine allows); one read per box, same order. */
  read(image: RgbImage, boxes: Box[]): Promise<EngineRead[]>;
  dispose(): Promise<void>;
}

/** Engine names used in raw_candidates. */
export const ENGINE_PADDLE = 'paddle-ocr';
export const ENGINE_TESSERACT = 'tesseract';
export const ENGINE_FAST_PLATE = 'fast-plate-ocr';
export const ENGINE_NAMES = [ENGINE_FAST_PLATE, ENGINE_PADDLE, ENGINE_TESSERACT] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

/** The empty read (engine saw nothing it could read). */
export const emptyRead = (engine: string): EngineRead => ({ engine, text: '', confidence: 0, chars: [] });

/** Builds a read from its characters: confidence is the geometric mean of the character confidences. */
export function readFromChars(engine: string, chars: ReadChar[]): EngineRead {
  if (chars.length === 0) return emptyRead(engine);
  const logSum = chars.reduce((s, c) => s + Math.log(Math.max(c.confidence, 1e-6)), 0);
  return { engine, text: chars.map((c) => c.char).join(''), confidence: Math.exp(logSum / chars.length), chars };
}
