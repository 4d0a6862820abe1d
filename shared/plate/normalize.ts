/**
 * Plate text normalisation: the one definition of "the same plate string" used by the
 * edge (consensus, de-duplication), the cloud (search) and the evaluation (exact match).
 */

/** Characters a normalised plate may contain. */
export const PLATE_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

const STRIP = /[\s\-–—.·_]/gu;

/**
 * Upper-cases and removes spaces, dashes, dots and underscores; accents are folded
 * (Ö → O) so that a plate reads the same whichever engine produced it. Characters outside
 * A–Z0–9 that survive folding are dropped.
 */
export function normalizePlate(text: string): string {
  const folded = text.normalize('NFKD').replace(/\p{M}/gu, '').toUpperCase().replace(STRIP, '');
  let out = '';
  for (const ch of folded) if (PLATE_ALPHABET.includes(ch)) out += ch;
  return out;
}

export const isLetter = (ch: string): boolean => ch >= 'A' && ch <= 'Z';
export const isDigit = (ch: string): boolean => ch >= '0' && ch <= '9';
