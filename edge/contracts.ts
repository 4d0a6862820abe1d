/**
 * The stage contracts of the edge: what capture, detect, read, track and the recognizer hand
 * each other (frames, boxes, candidates, reads). Stages import this module and never the
 * orchestrator (`recognize/`) above them; it imports nothing.
 */

/** One decoded video frame, packed RGB24 (width*height*3 bytes). */
export interface Frame {
  cameraId: string;
  /** Monotonic per camera, from the capture process. */
  seq: number;
  /** Wall-clock capture time, ms since the epoch. */
  ts: number;
  width: number;
  height: number;
  data: Buffer;
}

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** One engine's read of one plate crop. */
export interface Candidate {
  text: string;
  confidence: number;
  /** Engine name as reported in the event's raw_candidates, e.g. 'fast-plate-ocr'. */
  model: string;
  charConfidences?: number[];
}

export interface VehicleDetection {
  box: Box;
  type: 'car' | 'bus' | 'truck' | 'motorcycle';
  confidence: number;
  color?: string;
}

/** A plate confirmed across one or more frames of one vehicle track: becomes one event. */
export interface ConfirmedRead {
  cameraId: string;
  plateText: string;
  confidence: number;
  rawCandidates: Candidate[];
  /** How the consensus was reached (per-position votes), for explanation. */
  votes: unknown;
  plateBox: Box;
  vehicle?: VehicleDetection;
  /** The frame the best read came from (for the event's frame and crop JPEGs). */
  frame: Frame;
  firstSeenTs: number;
  lastSeenTs: number;
  frameCount: number;
  /** Inference time spent on this track, ms. */
  processingMs: number;
  /** The plate box when first seen and when confirmed: the vehicle's motion (zone direction). */
  path?: { first: Box; last: Box };
}

/** Per-camera recognition state: a tracker plus cross-frame consensus. */
export interface CameraRecognizer {
  /** Processes one frame; returns the reads that this frame confirmed (usually none). */
  push(frame: Frame): Promise<ConfirmedRead[]>;
  /** Ends every open track (camera stopped); returns what they confirm. */
  flush(): ConfirmedRead[];
  /** Tracks open now (vehicles in view, or gone less than the track gap ago): bounded state. */
  readonly openTracks: number;
}

/**
 * What an installer may set per camera for recognition (from the edge file or the cloud's
 * camera config). Absent fields take the recognizer's defaults.
 */
export interface CameraRecognitionSettings {
  /** Plates are searched inside this box of the frame (pixels of the camera's frame size). */
  roi?: Box;
  /** Plate-format regions of this camera, e.g. ['br']. */
  regions?: string[];
  /** Plate boxes lower than this many pixels are not read (too small to read reliably). */
  minPlateHeight?: number;
  /** Cross-frame consensus confidence a track needs to become an event. */
  minConfidence?: number;
  /** Clear frames agreeing on one text that confirm a track at once (the early decision). */
  confirmFrames?: number;
}

export interface Recognizer {
  forCamera(cameraId: string, opts?: CameraRecognitionSettings): CameraRecognizer;
  dispose(): Promise<void>;
}

/** Milliseconds spent per stage on one image (readers that run side by side overlap). */
export interface StageTimings {
  decode?: number;
  vehicles?: number;
  plates: number;
  /** Per engine name. */
  read: Record<string, number>;
  consensus: number;
  total: number;
}

/** One plate found in one image: its box, every engine's read and the consensus. */
export interface PlateResult {
  box: Box;
  /** Plate locator score, 0..1. */
  detectionScore: number;
  vehicle?: VehicleDetection;
  plateText: string;
  confidence: number;
  /** Name of the region format the text fits, if any. */
  format?: string;
  /** One read per engine, as the event's raw_candidates. */
  rawCandidates: Candidate[];
  /** How the consensus was reached (per-position votes). */
  votes: unknown;
}

/** What `recognizeImage` returns for one still image. */
export interface ImageResult {
  width: number;
  height: number;
  vehicles: VehicleDetection[];
  /** Best first. */
  plates: PlateResult[];
  timings: StageTimings;
}
