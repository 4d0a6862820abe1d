/**
 * Character-level weighted voting across engines and frames.
 *
 * 1. A reference read is picked: the one the others agree with most (weighted).
 * 2. Every read is aligned to it (reads may differ in length); each aligned character
 *    votes for itself and, with the engine's own probabilities, for its runner-ups;
 *    a read that skips a reference position votes to delete it; extra characters vote
 *    for an insertion.
 * 3. The voted string is then laid against the region formats of its length: where the
 *    format of a closed region (br, lt) fixes letter or digit, the position takes the
 *    best-voted character of that class (so a `0` read at a letter position becomes the
 *    `O` or `D` the engines also considered). A reading that fits a format is preferred
 *    by `formatBonus`. Last, the region's same-glyph rule writes characters its plates do
 *    not distinguish one way (US: O → 0).
 *
 * Each engine's vote is scaled by its trust weight (per character class), so a strong
 * engine is not outvoted by two weak ones agreeing by accident, yet the weak ones decide
 * where the strong one is unsure. The votes are returned for explanation.
 */
import { DIGIT_TO_LETTER, LETTER_TO_DIGIT, foldSameGlyph, formatClasses, isDigit, isLetter, type PlateFormat, type Region } from '../../shared/plate/index.js';
import { align, plateDistance } from './align.js';
import type { EngineRead } from './types.js';

/** How far an engine is trusted, per character class of what it read. */
export interface EngineTrust {
  letter: number;
  digit: number;
  /**
   * Trust in the engine's sense of where characters are: weighs its vote that a character
   * another engine read is not there (default: the mean of letter and digit).
   */
  gap?: number;
}

export type TrustTable = Record<string, EngineTrust>;

/**
 * Default trust: fast-plate-ocr is the plate specialist; PP-OCRv4 is a good general reader
 * that confuses look-alikes more; tesseract is weak on plate crops and mostly breaks ties.
 */
export const DEFAULT_TRUST: TrustTable = {
  'fast-plate-ocr': { letter: 1.0, digit: 1.0 },
  'paddle-ocr': { letter: 0.55, digit: 0.6 },
  tesseract: { letter: 0.15, digit: 0.2 },
};

export interface ConsensusOptions {
  trust?: TrustTable;
  /** Regions whose formats guide the vote (none: formats play no part). */
  regions?: readonly Region[];
  /** Score added to a reading that fits one of the formats. */
  formatBonus?: number;
  /** Score removed from a reading that fits no format when every region's formats are closed. */
  closedFormatPenalty?: number;
}

/** One read taking part in a vote; `weight` scales it (e.g. frame quality), `frame` labels it. */
export interface Ballot {
  read: EngineRead;
  weight?: number;
  frame?: number;
}

/** How one position was decided. */
export interface PositionVote {
  position: number;
  char: string;
  /** Share of all the weight that voted for `char`, 0..1. */
  share: number;
  /** Weighted votes per character ('' = delete this position). */
  scores: Record<string, number>;
  /** What each ballot read here (null: it had nothing here). */
  by: { engine: string; char: string | null; weight: number; frame?: number }[];
  /** Set when a format changed the voted character (e.g. '0→O'). */
  formatFix?: string;
  /** Set when the region writes the character another way (e.g. 'O→0' in the US). */
  sameGlyph?: string;
}

export interface ConsensusResult {
  text: string;
  confidence: number;
  /** The format the result fits, if any. */
  format?: string;
  votes: PositionVote[];
}

const DELETE = '';

interface Slot {
  scores: Map<string, number>;
  by: PositionVote['by'];
}

function trustOf(trust: TrustTable, engine: string, ch: string): number {
  const t = trust[engine] ?? { letter: 0.5, digit: 0.5 };
  return isDigit(ch) ? t.digit : t.letter;
}

function addVote(slot: Slot, ch: string, w: number) {
  if (w > 0) slot.scores.set(ch, (slot.scores.get(ch) ?? 0) + w);
}

/** Combines reads of one plate into one reading. */
export function vote(ballots: readonly Ballot[], opts: ConsensusOptions = {}): ConsensusResult {
  const trust = opts.trust ?? DEFAULT_TRUST;
  const regions = opts.regions ?? [];
  const formatBonus = opts.formatBonus ?? 0.08;
  const closedPenalty = opts.closedFormatPenalty ?? 0.15;
  const live = ballots.filter((b) => b.read.text.length > 0 && (b.weight ?? 1) > 0);
  if (live.length === 0) return { text: '', confidence: 0, votes: [] };

  const meanTrust = (engine: string) => {
    const t = trust[engine];
    return t ? (t.letter + t.digit) / 2 : 0.5;
  };
  const w = (b: Ballot) => (b.weight ?? 1) * meanTrust(b.read.engine);

  // Reference: the read the weighted others agree with most.
  let ref = live[0];
  let refScore = -Infinity;
  for (const a of live) {
    let s = w(a) * a.read.confidence;
    for (const b of live) {
      if (a === b) continue;
      const len = Math.max(a.read.text.length, b.read.text.length);
      s += w(b) * b.read.confidence * Math.max(0, 1 - plateDistance(a.read.text, b.read.text) / len);
    }
    if (s > refScore) (refScore = s), (ref = a);
  }

  const R = ref.read.text;
  const slots: Slot[] = Array.from({ length: R.length }, () => ({ scores: new Map(), by: [] }));
  // Insertions before reference position k (k = R.length: after the end).
  const inserts: Slot[] = Array.from({ length: R.length + 1 }, () => ({ scores: new Map(), by: [] }));
  let total = 0;
  for (const b of live) {
    const bw = b.weight ?? 1;
    total += w(b);
    const pairs = align(R, b.read.text);
    let next = 0;
    for (const [i, j] of pairs) {
      if (i >= 0) next = i + 1;
      if (j < 0) {
        const gw = bw * (trust[b.read.engine]?.gap ?? meanTrust(b.read.engine)) * b.read.confidence;
        addVote(slots[i], DELETE, gw);
        slots[i].by.push({ engine: b.read.engine, char: null, weight: gw, frame: b.frame });
        continue;
      }
      const c = b.read.chars[j];
      const target = i >= 0 ? slots[i] : inserts[next];
      const cw = bw * trustOf(trust, b.read.engine, c.char) * c.confidence;
      addVote(target, c.char, cw);
      for (const alt of c.alternatives ?? []) addVote(target, alt.char, bw * trustOf(trust, b.read.engine, alt.char) * alt.p);
      target.by.push({ engine: b.read.engine, char: c.char, weight: cw, frame: b.frame });
    }
  }

  // The voted string: each slot's best, deletions and insertions by majority of the weight.
  const chosen: Slot[] = [];
  for (let k = 0; k <= R.length; k++) {
    const ins = inserts[k];
    const [insBest, insScore] = best(ins.scores);
    if (insBest && insScore > 0.5 * total) chosen.push(ins);
    if (k === R.length) break;
    const [c] = best(slots[k].scores);
    if (c !== undefined && c !== DELETE) chosen.push(slots[k]);
  }

  const share = (s: Slot, ch: string) => Math.min(1, (s.scores.get(ch) ?? 0) / total);
  const voted = chosen.map((s) => best(s.scores, (ch) => ch !== DELETE)[0]!);
  const scoreOf = (chars: string[]) => chars.reduce((a, ch, k) => a + share(chosen[k], ch), 0) / Math.max(1, chars.length);

  const ofLength = (f: PlateFormat) => formatClasses(f).length === voted.length;
  const formats = regions.flatMap((r) => r.formats).filter(ofLength);
  // Only the formats of closed regions may change characters: an open region (US vanity
  // plates, mixed European schemes) cannot say a position must be a letter.
  const binding = regions.filter((r) => !r.openFormats).flatMap((r) => r.formats).filter(ofLength);
  const allClosed = regions.length > 0 && regions.every((r) => !r.openFormats);
  let bestChars = voted;
  let bestFormat: PlateFormat | undefined = formats.find((f) => fits(voted, f));
  let bestScore = scoreOf(voted) + (bestFormat ? formatBonus : allClosed ? -closedPenalty : 0);
  for (const f of binding) {
    const projected = project(voted, chosen, f);
    const s = scoreOf(projected) + formatBonus;
    if (s > bestScore + 1e-9) (bestScore = s), (bestChars = projected), (bestFormat = f);
  }

  // Same-glyph rules last: they are how the region writes a character, not a reading choice.
  const folded = [...foldSameGlyph(bestChars.join(''), regions)];
  const votes: PositionVote[] = chosen.map((s, k) => ({
    position: k,
    char: folded[k],
    share: share(s, bestChars[k]),
    scores: Object.fromEntries([...s.scores].map(([c, v]) => [c, round(v)])),
    by: s.by.map((x) => ({ ...x, weight: round(x.weight) })),
    ...(bestChars[k] !== voted[k] ? { formatFix: `${voted[k]}→${bestChars[k]}` } : {}),
    ...(folded[k] !== bestChars[k] ? { sameGlyph: `${bestChars[k]}→${folded[k]}` } : {}),
  }));
  const logShare = votes.reduce((a, v) => a + Math.log(Math.max(v.share, 1e-3)), 0);
  // A reading that fits none of the formats of regions that allow nothing else is doubtful.
  const confidence = (votes.length ? Math.exp(logShare / votes.length) : 0) * (allClosed && !bestFormat ? 0.5 : 1);
  return { text: folded.join(''), confidence: round(confidence), format: bestFormat?.name, votes };
}

function best(scores: Map<string, number>, keep: (ch: string) => boolean = () => true): [string | undefined, number] {
  let bc: string | undefined;
  let bs = 0;
  for (const [c, s] of scores) if (keep(c) && s > bs) (bc = c), (bs = s);
  return [bc, bs];
}

function fits(chars: readonly string[], f: PlateFormat): boolean {
  return formatClasses(f).every((c, k) => c === 'A' || (c === 'L' ? isLetter(chars[k]) : isDigit(chars[k])));
}

/** The best-voted character of the class the format wants at each position. */
function project(voted: readonly string[], slots: readonly Slot[], f: PlateFormat): string[] {
  return formatClasses(f).map((cls, k) => {
    const ch = voted[k];
    if (cls === 'A' || (cls === 'L' && isLetter(ch)) || (cls === 'D' && isDigit(ch))) return ch;
    const want = cls === 'L' ? isLetter : isDigit;
    const [alt] = best(slots[k].scores, (c) => c !== DELETE && want(c));
    return alt ?? (cls === 'L' ? DIGIT_TO_LETTER[ch] : LETTER_TO_DIGIT[ch]) ?? ch;
  });
}

const round = (x: number) => Math.round(x * 1000) / 1000;
