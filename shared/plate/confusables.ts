/**
 * Characters that OCR engines mix up on plates. A letter-digit pair is only ever swapped
 * where a plate format says which of the two the position must hold; elsewhere the
 * engines' votes decide. `canonicalPlate` folds each pair to one symbol so that two reads
 * that differ only by look-alikes compare equal (de-duplication, tracking).
 */
import { isDigit, isLetter, normalizePlate } from './normalize.js';

/** Letter → the digit it is most often confused with. */
export const LETTER_TO_DIGIT: Readonly<Record<string, string>> = {
  O: '0', D: '0', Q: '0', U: '0', I: '1', L: '1', J: '1', T: '7', B: '8', S: '5', Z: '2', G: '6', A: '4',
};

/** Digit → the letter it is most often confused with. */
export const DIGIT_TO_LETTER: Readonly<Record<string, string>> = {
  '0': 'O', '1': 'I', '2': 'Z', '4': 'A', '5': 'S', '6': 'G', '7': 'T', '8': 'B',
};

/** The look-alike of `ch` in the other class, if any (O → 0, 0 → O, …). */
export function confusableOf(ch: string, want: 'letter' | 'digit'): string | undefined {
  if (want === 'digit') return isDigit(ch) ? ch : LETTER_TO_DIGIT[ch];
  return isLetter(ch) ? ch : DIGIT_TO_LETTER[ch];
}

/** True when `a` and `b` are the same character or a known look-alike pair. */
export function areConfusable(a: string, b: string): boolean {
  if (a === b) return true;
  return LETTER_TO_DIGIT[a] === b || LETTER_TO_DIGIT[b] === a || (LETTER_TO_DIGIT[a] !== undefined && LETTER_TO_DIGIT[a] === LETTER_TO_DIGIT[b]);
}

/** Folds look-alikes to one symbol: `canonicalPlate('OB-5') === canonicalPlate('0B5') === '085'`. */
export function canonicalPlate(text: string): string {
  let out = '';
  for (const ch of normalizePlate(text)) out += LETTER_TO_DIGIT[ch] ?? ch;
  return out;
}
