/**
 * What of a camera's config goes where: recognition settings reconfigure its recognizer between
 * two frames; everything else (URL, fps, resolution, hwaccel, heartbeat, ffmpeg input args, from
 * the file or the cloud's `metadata.capture`) is what its capture is built from, and a change
 * restarts that camera's capture only.
 */
import type { EdgeCamera } from '../config/schema.js';
import type { CameraRecognitionSettings } from '../contracts.js';
import { RECOGNITION_KEYS } from '../../shared/schemas/camera-recognition.js';

/** A camera's recognition settings (edge file or the cloud's `metadata.recognition`) as the recognizer takes them. */
export function recognitionSettings(cam: EdgeCamera, edgeRegions: string[]): CameraRecognitionSettings {
  const s: CameraRecognitionSettings = { regions: cam.regions ?? edgeRegions };
  if (cam.roi) s.roi = { ...cam.roi };
  if (cam.min_plate_height != null) s.minPlateHeight = cam.min_plate_height;
  if (cam.min_confidence != null) s.minConfidence = cam.min_confidence;
  if (cam.confirm_frames != null) s.confirmFrames = cam.confirm_frames;
  return s;
}

/** The recognition settings the recognizer takes; hwaccel belongs to the capture. */
const RECOGNIZER_KEYS: readonly string[] = RECOGNITION_KEYS.filter((k) => k !== 'hwaccel');

/** Everything but the recognizer's settings: what a camera's capture and loop are built from. */
export function captureKey(cam: EdgeCamera): string {
  return JSON.stringify(Object.fromEntries(Object.entries(cam).filter(([k]) => !RECOGNIZER_KEYS.includes(k))));
}
