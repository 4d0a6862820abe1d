/**
 * Per-camera plate tracker with cross-frame voting. Detections of successive frames join a
 * track when their boxes overlap or their texts are (look-alike) close — but two confident,
 * different reads in clear view never join: they are two vehicles, like the next car that
 * stops where the last one stood. A track gives at most one result:
 * - the early decision: as soon as `confirmFrames` clear frames read the text that the
 *   cross-frame vote gives, each with at least `minConfidence` and the vote with at least
 *   `confirmConfidence` (twice as many frames when the vote is less sure, at least
 *   `minConfidence`), the track is confirmed with the read of that moment (a barrier must not
 *   wait for the car to leave);
 * - otherwise when it closes (unseen for `maxGapMs`: every read of every frame votes once
 *   more, see read/consensus.ts), or when it reaches `maxTrackFrames` (a parked car that never
 *   reads stably still produces its event).
 * After its result the track stays open, silent, until it leaves: later frames of the same
 * pass never make a second event. The trade-off: the event carries the read of the moment of
 * decision; a better read a second later does not replace it (an operator's correction
 * does). Two agreeing frames are the least evidence that is not one frame's accident; a
 * camera that sees plates from far away can ask for more (`confirmFrames`) or turn the early
 * decision off (0).
 *
 * Plates cut by the border. A plate box at the edge of the frame (or of the camera's region
 * of interest: within `borderChars` character sizes left and right, `borderMargin` of the
 * height top and bottom; see border.ts) is a weak observation: the plate may be cut, and its
 * read only a piece of the plate ("LMN" of "GF19 LMN" as the car enters). It opens or
 * extends a track like any other, but
 * - its reads weigh `borderWeight` in the cross-frame vote, and it gives the event's image
 *   only when the track has no whole view;
 * - it never confirms a track on its own: a track is confirmed early (at `maxTrackFrames`)
 *   only when one of its frames saw the plate clear of the border;
 * - a track that ends having seen its plate only at the border is dropped, unless its read
 *   fits a format of the camera's regions; then it is emitted with its confidence scaled by
 *   `borderOnlyFactor` (0 drops it always). Why: a cut plate's read is a run of real
 *   characters, read confidently, so confidence cannot tell it from a whole plate; a plate
 *   format is the only evidence that the read is complete (with no regions configured there
 *   is none, and the track is dropped). Dropping everything would lose a car that stops
 *   with its plate at the edge of the picture; emitting it unmarked would put plates that
 *   do not exist into the event log. The lowered confidence marks it as doubtful.
 *
 * Partial reads. A read that is a strict piece of a longer read some frame of the same
 * track read confidently (`confidentRead`) takes no part in the vote, and the vote's result
 * is never such a piece: the whole read with the most support replaces it. The exception is
 * a piece that fits a plate format when the longer read fits none (the longer one then more
 * likely holds a stray character from the plate's surround).
 *
 * Formats. When some frame's read fits a format of the camera's regions, the frames whose
 * read fits none weigh `offFormatWeight` in the vote; with closed regions only (br, lt), a
 * result fitting no format is replaced by the vote of the fitting frames when that fits.
 *
 * Memory per track is bounded: the reads of at most `maxTrackFrames` frames, and the pixels
 * of one frame only (the best view, which becomes the event's image).
 */
import { containment, iou } from '../detect/geometry.js';
import { plateDistance } from '../read/align.js';
import type { ConsensusResult, TrustTable } from '../read/consensus.js';
import type { EngineRead } from '../read/types.js';
import type { Region } from '../../shared/plate/index.js';
import type { Box, Candidate, Frame, VehicleDetection } from '../contracts.js';
import { isBorderCut, isPartialRead } from './border.js';
import { engineCandidates, trackVote, type FrameReads } from './track-vote.js';

export { engineCandidates };

export interface TrackerOptions {
  /** A track unseen this long is closed. */
  maxGapMs: number;
  /** Frames after which an ongoing track is confirmed without waiting for it to close. */
  maxTrackFrames: number;
  /** Frames a track needs before it may be confirmed. */
  minFrames: number;
  /**
   * The early decision: a track is confirmed as soon as this many of its frames, clear of the
   * border, read the text of the cross-frame vote with at least `minConfidence` each and the
   * vote reaches `confirmConfidence` (see there). 0 turns it off (confirm on close or at
   * `maxTrackFrames`).
   */
  confirmFrames: number;
  /**
   * Vote confidence with which `confirmFrames` agreeing frames decide; a less confident read
   * needs twice as many agreeing frames (a blurred or distant plate gets more frames to vote).
   */
  confirmConfidence: number;
  /** Cross-frame consensus confidence a track needs to be confirmed. */
  minConfidence: number;
  trust?: TrustTable;
  /**
   * A plate box this close to an edge of the frame (or ROI) counts as cut by the border: a
   * fraction of the area's width (left, right) or height (top, bottom), at least 2 px.
   */
  borderMargin: number;
  /**
   * At the left and right edges, the margin in character sizes (the box height): a plate cut
   * between two characters leaves about a space between its text box and the edge.
   */
  borderChars: number;
  /** Weight of a border-cut frame's reads in the cross-frame vote (a clear frame weighs 1). */
  borderWeight: number;
  /** Weight of a frame whose read fits no region format while another frame's read fits one. */
  offFormatWeight: number;
  /**
   * Confidence factor for a track that only ever saw its plate at the border (and whose read
   * fits a region format; otherwise it is dropped). 0: such tracks are always dropped.
   */
  borderOnlyFactor: number;
  /** Frame consensus confidence from which a read counts as confident: its pieces lose. */
  confidentRead: number;
}

export const DEFAULT_TRACKER_OPTIONS: TrackerOptions = {
  maxGapMs: 1500,
  maxTrackFrames: 25,
  minFrames: 1,
  confirmFrames: 2,
  confirmConfidence: 0.75,
  minConfidence: 0.5,
  borderMargin: 0.005,
  borderChars: 1,
  borderWeight: 0.3,
  offFormatWeight: 0.5,
  borderOnlyFactor: 0.5,
  confidentRead: 0.6,
};

/** One plate seen in one frame. */
export interface TrackedObservation {
  box: Box;
  reads: EngineRead[];
  consensus: ConsensusResult;
  vehicle?: VehicleDetection;
  frame: Frame;
  processingMs: number;
  /**
   * Whether the plate box touches the border of the searched area. When absent the tracker
   * decides from the box, the frame size and the ROI given to `setRoi`.
   */
  borderCut?: boolean;
}

export interface TrackResult {
  text: string;
  confidence: number;
  consensus: ConsensusResult;
  candidates: Candidate[];
  best: TrackedObservation;
  firstSeenTs: number;
  lastSeenTs: number;
  frameCount: number;
  /** Frames whose plate box was clear of the border. */
  clearFrameCount: number;
  /** Every frame saw the plate at the border: the confidence is scaled by `borderOnlyFactor`. */
  borderOnly: boolean;
  processingMs: number;
  /** Where the plate was first seen and last seen (up to this result): its motion, for direction. */
  path: { first: Box; last: Box };
}


interface Track {
  id: number;
  box: Box;
  /** The plate box of the frame that opened the track. */
  firstBox: Box;
  text: string;
  /** Confidence of the read that gave `text`. */
  textConfidence: number;
  /** The frames' reads, oldest first (a sliding window of at most maxTrackFrames). */
  reads: FrameReads[];
  /** The best view (clear of the border first, then most confident): the only frame whose pixels are kept. */
  best: TrackedObservation;
  bestBorder: boolean;
  lastBorder: boolean;
  firstTs: number;
  lastTs: number;
  frameCount: number;
  clearFrames: number;
  processingMs: number;
  emitted: boolean;
}

export class PlateTracker {
  private tracks: Track[] = [];
  private nextId = 1;
  private o: TrackerOptions;
  private roi?: Box;

  constructor(
    private regions: Region[],
    opts: Partial<TrackerOptions> = {},
  ) {
    this.o = { ...DEFAULT_TRACKER_OPTIONS, ...opts };
  }

  setRegions(regions: Region[]) {
    this.regions = regions;
  }

  /** Per-camera decision settings (see TrackerOptions); undefined keeps the current value. */
  setDecision(o: { minConfidence?: number; confirmFrames?: number }) {
    if (o.minConfidence !== undefined) this.o.minConfidence = o.minConfidence;
    if (o.confirmFrames !== undefined) this.o.confirmFrames = o.confirmFrames;
  }

  /** The camera's region of interest (plates are searched inside it); none: the whole frame. */
  setRoi(roi: Box | undefined) {
    this.roi = roi;
  }

  /**
   * Adds one frame's plates (possibly none); returns tracks confirmed by this frame: those
   * that closed (unseen for maxGapMs) and those that just reached maxTrackFrames.
   */
  update(ts: number, observations: TrackedObservation[]): TrackResult[] {
    const free = new Set(this.tracks);
    for (const ob of observations) {
      const border = ob.borderCut ?? isBorderCut(ob.box, ob.frame.width, ob.frame.height, this.roi, { margin: this.o.borderMargin, chars: this.o.borderChars });
      const text = ob.consensus.text;
      let bestTrack: Track | undefined;
      let bestScore = 0;
      for (const tr of free) {
        const overlap = iou(tr.box, ob.box);
        const len = Math.max(tr.text.length, text.length, 1);
        let similar = 1 - plateDistance(tr.text, text) / len;
        // A piece of the plate: its text a piece of the other's, or its box a narrower part of
        // the other's (the detector found half the plate, read as other characters: "4822").
        // Seen at the border it joins the track of the whole plate (and the other way round)
        // even where the box jumped between frames.
        const piece =
          (Math.min(tr.text.length, text.length) >= 3 && (isPartialRead(text, tr.text) || isPartialRead(tr.text, text))) ||
          isPartOf(ob.box, tr.box) ||
          isPartOf(tr.box, ob.box);
        if ((border || tr.lastBorder) && piece) similar = Math.max(similar, 0.7);
        // Two confident reads of different plates are two vehicles, even in the same place: at a
        // gate the next car stops where the last one stood, and must not join (or be silenced
        // by) the track of the car before it.
        // (Views at the border may show a piece of the plate: they join by overlap as before.)
        const clearViews = !border && !tr.lastBorder && Math.min(tr.text.length, text.length) >= 3;
        if (clearViews && similar < 0.5 && !piece && tr.textConfidence >= this.o.confidentRead && ob.consensus.confidence >= this.o.confidentRead) continue;
        const score = overlap > 0.05 ? overlap + similar : similar >= 0.7 ? similar : 0;
        if (score > bestScore) (bestScore = score), (bestTrack = tr);
      }
      // A view of part of the track's plate (the detector found half of it) is weak, like a
      // view cut by the border: it votes little, is never the clear view that decides early,
      // and leaves the track's box as it was.
      const halfView = bestTrack !== undefined && isPartOf(ob.box, bestTrack.box);
      const weak = border || halfView;
      const frameReads: FrameReads = { box: ob.box, reads: ob.reads, consensus: ob.consensus, processingMs: ob.processingMs, ts: ob.frame.ts, border: weak };
      if (bestTrack) {
        free.delete(bestTrack);
        const tr = bestTrack;
        tr.reads.push(frameReads);
        if (tr.reads.length > this.o.maxTrackFrames) tr.reads.shift();
        if ((tr.bestBorder && !weak) || (tr.bestBorder === weak && ob.consensus.confidence > tr.best.consensus.confidence)) {
          tr.best = ob;
          tr.bestBorder = weak;
        }
        if (!halfView) tr.box = ob.box;
        tr.lastTs = ob.frame.ts;
        tr.frameCount++;
        if (!weak) tr.clearFrames++;
        tr.lastBorder = weak;
        tr.processingMs += ob.processingMs;
        // The track's text (for matching) comes from whole views once there is one.
        if (ob.consensus.confidence >= 0.5 && (!weak || tr.clearFrames === 0)) (tr.text = text), (tr.textConfidence = ob.consensus.confidence);
      } else {
        this.tracks.push({
          id: this.nextId++,
          box: ob.box,
          firstBox: ob.box,
          text,
          textConfidence: ob.consensus.confidence,
          reads: [frameReads],
          best: ob,
          bestBorder: border,
          lastBorder: border,
          firstTs: ob.frame.ts,
          lastTs: ob.frame.ts,
          frameCount: 1,
          clearFrames: border ? 0 : 1,
          processingMs: ob.processingMs,
          emitted: false,
        });
      }
    }
    const out: TrackResult[] = [];
    const keep: Track[] = [];
    for (const tr of this.tracks) {
      const closed = ts - tr.lastTs > this.o.maxGapMs;
      // Only a frame that joined the track can make its read stable: the others are not re-voted.
      const early = this.o.confirmFrames > 0 && !free.has(tr);
      if (!tr.emitted && (closed || tr.reads.length >= this.o.maxTrackFrames || early)) {
        const r = this.finish(tr, closed ? 'closed' : tr.reads.length >= this.o.maxTrackFrames ? 'full' : 'early');
        if (r) out.push(r);
        // A long track that is not confident yet keeps its window sliding and tries again.
        tr.emitted = r !== undefined;
      }
      if (tr.emitted) tr.reads = tr.reads.slice(-1);
      if (!closed) keep.push(tr);
    }
    this.tracks = keep;
    return out;
  }

  /** Closes every open track (camera stopped). */
  flush(): TrackResult[] {
    const out: TrackResult[] = [];
    for (const tr of this.tracks) {
      if (tr.emitted) continue;
      const r = this.finish(tr, 'closed');
      if (r) out.push(r);
    }
    this.tracks = [];
    return out;
  }

  get openTracks(): number {
    return this.tracks.length;
  }

  /**
   * The track's result, if it may be confirmed now. `closed`: the track ends; `full`: it
   * reached maxTrackFrames; `early`: it goes on, and is confirmed only when its read is stable.
   */
  private finish(tr: Track, when: 'closed' | 'full' | 'early'): TrackResult | undefined {
    if (tr.frameCount < this.o.minFrames) return undefined;
    const borderOnly = tr.clearFrames === 0;
    // Border views alone never confirm a track that may still show its whole plate.
    if (borderOnly && (when !== 'closed' || this.o.borderOnlyFactor <= 0)) return undefined;
    if (when === 'early' && tr.clearFrames < this.o.confirmFrames) return undefined;
    let consensus = trackVote(tr.reads, { ...this.o, regions: this.regions });
    if (consensus.text.length < 3 || consensus.confidence < this.o.minConfidence) return undefined;
    if (when === 'early') {
      const agreeing = tr.reads.filter((fr) => !fr.border && fr.consensus.text === consensus.text && fr.consensus.confidence >= this.o.minConfidence).length;
      const needed = consensus.confidence >= this.o.confirmConfidence ? this.o.confirmFrames : 2 * this.o.confirmFrames;
      if (agreeing < needed) return undefined;
    }
    if (borderOnly) {
      // Only a plate format vouches that a read seen at the border is the whole plate.
      if (!consensus.format) return undefined;
      consensus = { ...consensus, confidence: Math.round(consensus.confidence * this.o.borderOnlyFactor * 1000) / 1000 };
    }
    const clear = tr.reads.filter((fr) => !fr.border);
    return {
      text: consensus.text,
      confidence: consensus.confidence,
      consensus,
      candidates: engineCandidates(clear.length ? clear : tr.reads),
      best: tr.best,
      firstSeenTs: tr.firstTs,
      lastSeenTs: tr.lastTs,
      frameCount: tr.frameCount,
      clearFrameCount: tr.clearFrames,
      borderOnly,
      processingMs: tr.processingMs,
      path: { first: tr.firstBox, last: tr.box },
    };
  }
}

/** `part` lies inside `whole` and is clearly narrower: a piece of the same plate. */
function isPartOf(part: Box, whole: Box): boolean {
  return part.width < 0.8 * whole.width && containment(part, whole) > 0.8;
}
