/** Capture stage: one supervised ffmpeg per camera yielding the latest RGB24 frame. */
export { CameraCapture, type CaptureOptions, type CaptureStatus, type CaptureState } from './camera-capture.js';
export { FrameAssembler } from './frame-assembler.js';
export { ffmpegArgs, safeCommandLine, sourceKind, type SourceSpec, type HwAccel } from './ffmpeg-args.js';
export { backoffDelay, type BackoffOptions } from './backoff.js';
