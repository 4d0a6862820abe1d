/**
 * The cross-frame vote of one track: every read of every frame votes (read/consensus.ts), a
 * frame weighing less when its plate was cut by the border (or only part of it was found) or
 * its read fits no format while another frame's does; a strict piece of a confident read is
 * not a read of the plate and never the result; with closed regions only, a result that fits
 * no format gives way to the vote of the fitting frames.
 */
import { vote, type Ballot, type ConsensusResult, type TrustTable } from '../read/consensus.js';
import type { EngineRead } from '../read/types.js';
import { matchingFormats, type Region } from '../../shared/plate/index.js';
import type { Candidate } from '../contracts.js';
import { isPartialRead } from './border.js';

/** What a track keeps of each frame: its reads, not its pixels; `border`: a weak view. */
export interface FrameReads {
  box: { x: number; y: number; width: number; height: number };
  reads: EngineRead[];
  consensus: ConsensusResult;
  processingMs: number;
  ts: number;
  border: boolean;
}

export interface TrackVoteOptions {
  regions: Region[];
  trust?: TrustTable;
  minConfidence: number;
  confidentRead: number;
  borderWeight: number;
  offFormatWeight: number;
}

/** The cross-frame vote: border views weigh less, pieces of confident reads drop out, formats count. */
export function trackVote(frames: readonly FrameReads[], o: TrackVoteOptions): ConsensusResult {
  const regions = o.regions;
  const opts = { trust: o.trust, regions };
  const fits = (text: string) => regions.length > 0 && matchingFormats(text, regions).length > 0;
  const fitting = frames.filter((fr) => fr.consensus.confidence >= o.minConfidence && fits(fr.consensus.text));
  const weight = (fr: FrameReads) => (fr.border ? o.borderWeight : 1) * (fitting.length > 0 && !fits(fr.consensus.text) ? o.offFormatWeight : 1);

  // Confident reads: a strict piece of one of them is not a read of this plate.
  const confident = frames.filter((fr) => fr.consensus.confidence >= o.confidentRead);
  const wholesOf = (text: string) => confident.filter((fr) => isPartialRead(text, fr.consensus.text) && !(fits(text) && !fits(fr.consensus.text)));
  const partial = (text: string) => wholesOf(text).length > 0;
  const ballotsOf = (sel: readonly FrameReads[]): Ballot[] => {
    const all = sel.flatMap((fr) => fr.reads.filter((r) => r.text.length > 0).map((read): Ballot => ({ read, weight: weight(fr), frame: frames.indexOf(fr) })));
    const kept = all.filter((b) => !partial(b.read.text));
    return kept.length ? kept : all;
  };

  let c = vote(ballotsOf(frames), opts);
  // The vote may still land on a piece (a few whole reads against many pieces that agree
  // on a deletion): then the whole read with the most support decides.
  const wholes = wholesOf(c.text);
  if (wholes.length) {
    const support = new Map<string, number>();
    for (const fr of wholes) support.set(fr.consensus.text, (support.get(fr.consensus.text) ?? 0) + weight(fr) * fr.consensus.confidence);
    const [whole] = [...support].sort((a, b) => b[1] - a[1])[0];
    c = vote(ballotsOf(frames.filter((fr) => fr.consensus.text === whole)), opts);
  }
  // Closed regions allow nothing but their formats: a read that fits none loses against one that does.
  const allClosed = regions.length > 0 && regions.every((r) => !r.openFormats);
  if (allClosed && !c.format && fitting.length) {
    const alt = vote(ballotsOf(fitting), opts);
    if (alt.format) c = alt;
  }
  return c;
}

/** One candidate per engine: its most supported text across the frames, with mean confidence. */
export function engineCandidates(obs: readonly { reads: EngineRead[] }[]): Candidate[] {
  const by = new Map<string, Map<string, { sum: number; n: number; chars: number[] }>>();
  for (const ob of obs)
    for (const r of ob.reads) {
      if (!r.text) continue;
      const m = by.get(r.engine) ?? new Map();
      by.set(r.engine, m);
      const e = m.get(r.text) ?? { sum: 0, n: 0, chars: r.chars.map((c) => c.confidence) };
      e.sum += r.confidence;
      e.n++;
      m.set(r.text, e);
    }
  const out: Candidate[] = [];
  for (const [engine, m] of by) {
    const [text, e] = [...m].sort((a, b) => b[1].sum - a[1].sum)[0];
    out.push({ text, confidence: Math.round((e.sum / e.n) * 1000) / 1000, model: engine, charConfidences: e.chars.map((c) => Math.round(c * 1000) / 1000) });
  }
  return out;
}
