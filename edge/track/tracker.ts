/**
 * Per-camera plate tracker with cross-frame voting. Detections of successive frames join a
 * track when their boxes overlap or their texts are (look-alike) close; a track closes when
 * it has not been seen for `maxGapMs`, and then every read of every frame votes once more
 * (see read/consensus.ts). A track that keeps going is confirmed once `maxTrackFrames` is
 * reached, so a parked car still produces its event; it then stays open, silent, until it
 * leaves.
 *
 * Memory per track is bounded: the reads of at most `maxTrackFrames` frames, and the pixels
 * of one frame only (the most confident, which becomes the event's image).
 */
import { iou } from '../detect/geometry.js';
import { plateDistance } from '../read/align.js';
import { vote, type Ballot, type ConsensusResult, type TrustTable } from '../read/consensus.js';
import type { EngineRead } from '../read/types.js';
import type { Region } from '../../shared/plate/index.js';
import type { Box, Candidate, Frame, VehicleDetection } from '../recognize/types.js';

export interface TrackerOptions {
  /** A track unseen this long is closed. */
  maxGapMs: number;
  /** Frames after which an ongoing track is confirmed without waiting for it to close. */
  maxTrackFrames: number;
  /** Frames a track needs before it may be confirmed. */
  minFrames: number;
  /** Cross-frame consensus confidence a track needs to be confirmed. */
  minConfidence: number;
  trust?: TrustTable;
}

export const DEFAULT_TRACKER_OPTIONS: TrackerOptions = { maxGapMs: 1500, maxTrackFrames: 25, minFrames: 1, minConfidence: 0.5 };

/** One plate seen in one frame. */
export interface TrackedObservation {
  box: Box;
  reads: EngineRead[];
  consensus: ConsensusResult;
  vehicle?: VehicleDetection;
  frame: Frame;
  processingMs: number;
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
  processingMs: number;
}

/** What a track keeps of each frame: its reads, not its pixels. */
type FrameReads = Omit<TrackedObservation, 'frame' | 'vehicle'> & { ts: number };

interface Track {
  id: number;
  box: Box;
  text: string;
  /** The frames' reads, oldest first (a sliding window of at most maxTrackFrames). */
  reads: FrameReads[];
  /** The most confident observation, the only one whose frame (pixels) is kept. */
  best: TrackedObservation;
  firstTs: number;
  lastTs: number;
  frameCount: number;
  processingMs: number;
  emitted: boolean;
}

export class PlateTracker {
  private tracks: Track[] = [];
  private nextId = 1;
  private readonly o: TrackerOptions;

  constructor(
    private regions: Region[],
    opts: Partial<TrackerOptions> = {},
  ) {
    this.o = { ...DEFAULT_TRACKER_OPTIONS, ...opts };
  }

  setRegions(regions: Region[]) {
    this.regions = regions;
  }

  /**
   * Adds one frame's plates (possibly none); returns tracks confirmed by this frame: those
   * that closed (unseen for maxGapMs) and those that just reached maxTrackFrames.
   */
  update(ts: number, observations: TrackedObservation[]): TrackResult[] {
    const free = new Set(this.tracks);
    for (const ob of observations) {
      let bestTrack: Track | undefined;
      let bestScore = 0;
      for (const tr of free) {
        const overlap = iou(tr.box, ob.box);
        const len = Math.max(tr.text.length, ob.consensus.text.length, 1);
        const similar = 1 - plateDistance(tr.text, ob.consensus.text) / len;
        const score = overlap > 0.05 ? overlap + similar : similar >= 0.7 ? similar : 0;
        if (score > bestScore) (bestScore = score), (bestTrack = tr);
      }
      const frameReads: FrameReads = { box: ob.box, reads: ob.reads, consensus: ob.consensus, processingMs: ob.processingMs, ts: ob.frame.ts };
      if (bestTrack) {
        free.delete(bestTrack);
        const tr = bestTrack;
        tr.reads.push(frameReads);
        if (tr.reads.length > this.o.maxTrackFrames) tr.reads.shift();
        if (ob.consensus.confidence > tr.best.consensus.confidence) tr.best = ob;
        tr.box = ob.box;
        tr.lastTs = ob.frame.ts;
        tr.frameCount++;
        tr.processingMs += ob.processingMs;
        if (ob.consensus.confidence >= 0.5) tr.text = ob.consensus.text;
      } else {
        this.tracks.push({
          id: this.nextId++,
          box: ob.box,
          text: ob.consensus.text,
          reads: [frameReads],
          best: ob,
          firstTs: ob.frame.ts,
          lastTs: ob.frame.ts,
          frameCount: 1,
          processingMs: ob.processingMs,
          emitted: false,
        });
      }
    }
    const out: TrackResult[] = [];
    const keep: Track[] = [];
    for (const tr of this.tracks) {
      const closed = ts - tr.lastTs > this.o.maxGapMs;
      if (!tr.emitted && (closed || tr.reads.length >= this.o.maxTrackFrames)) {
        const r = this.finish(tr);
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
      const r = this.finish(tr);
      if (r) out.push(r);
    }
    this.tracks = [];
    return out;
  }

  get openTracks(): number {
    return this.tracks.length;
  }

  private finish(tr: Track): TrackResult | undefined {
    if (tr.frameCount < this.o.minFrames) return undefined;
    const ballots: Ballot[] = tr.reads.flatMap((fr, f) => fr.reads.map((read) => ({ read, frame: f })));
    const consensus = vote(ballots, { trust: this.o.trust, regions: this.regions });
    if (consensus.text.length < 3 || consensus.confidence < this.o.minConfidence) return undefined;
    return {
      text: consensus.text,
      confidence: consensus.confidence,
      consensus,
      candidates: engineCandidates(tr.reads),
      best: tr.best,
      firstSeenTs: tr.firstTs,
      lastSeenTs: tr.lastTs,
      frameCount: tr.frameCount,
      processingMs: tr.processingMs,
    };
  }
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
