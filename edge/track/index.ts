/** Tracking stage: per-camera tracks, cross-frame voting, de-duplication window. */
export { PlateTracker, engineCandidates, DEFAULT_TRACKER_OPTIONS, type TrackerOptions, type TrackedObservation, type TrackResult } from './tracker.js';
export { isBorderCut, isPartialRead } from './border.js';
export { DedupWindow } from './dedup.js';
