/**
 * Per-camera recognition settings: what an installer tells one camera (which country's plates
 * it sees, where to look, how sure to be) without touching the edge. One schema for both sides:
 *
 * - the cloud's config API validates the camera's `metadata.recognition` with it
 *   (POST/PUT /config/cameras: a bad value is a 400 naming the field, nothing is stored);
 * - the edge file has the same fields on each `cameras[]` entry (edge/config/schema.ts uses
 *   these field schemas), and the edge checks each camera the cloud serves with it
 *   (edge/config/cloud-sync.ts: a bad setting is logged and dropped, the camera and the others
 *   keep running).
 *
 * Every field is optional; absent or null means "not set here": the edge file's value for that
 * camera, else the recognizer's default. null exists so that a partial PUT (a deep merge) can
 * unset a field.
 */
import { REGIONS } from '../plate/formats.js';
import { z } from './common.js';

/** Hardware decoding modes of the capture (edge/capture/ffmpeg-args.ts). */
export const HWACCEL_MODES = ['none', 'nvdec', 'jetson'] as const;
export const HwAccelMode = z
  .enum(HWACCEL_MODES)
  .describe('Hardware decoding: none, nvdec (NVIDIA on x86: -hwaccel cuda) or jetson (JetPack ffmpeg: -c:v h264_nvv4l2dec)');

const knownRegion = (id: string) => Object.hasOwn(REGIONS, id.toLowerCase());

/**
 * A plate-format region id known to every edge (shared/plate REGIONS). Regions defined only in
 * one edge's configuration cannot be named from the cloud: the edge has no such setting yet.
 */
export const PlateRegionId = z
  .string()
  .min(1)
  .max(32)
  .refine(knownRegion, { error: (iss) => `unknown plate region '${String(iss.input)}' (known: ${Object.keys(REGIONS).join(', ')})` })
  .describe(`Plate-format region id: ${Object.keys(REGIONS).join(', ')}`);

/** Frame sizes go up to 8K in the cloud's camera config; the frame check below is the real bound. */
const MAX_W = 7680;
const MAX_H = 4320;

export const Roi = z
  .object({
    x: z.number().int().min(0).max(MAX_W).describe('Left edge, pixels from the left of the frame'),
    y: z.number().int().min(0).max(MAX_H).describe('Top edge, pixels from the top of the frame'),
    width: z.number().int().min(16).max(MAX_W).describe('Width in pixels, ≥16'),
    height: z.number().int().min(16).max(MAX_H).describe('Height in pixels, ≥16'),
  })
  .strict()
  .openapi('Roi');
export type Roi = z.output<typeof Roi>;

export const CameraRecognition = z
  .object({
    regions: z
      .array(PlateRegionId)
      .max(16)
      .nullable()
      .optional()
      .describe(`Plate-format regions of this camera, e.g. [br] (known: ${Object.keys(REGIONS).join(', ')}); [] = formats play no part (default: the edge-wide \`regions\`)`),
    roi: Roi.nullable()
      .optional()
      .describe("Region of interest: plates are searched only inside this box, in pixels of the camera's frame size (`resolution`); must lie inside the frame (default: the whole frame)"),
    min_plate_height: z
      .number()
      .int()
      .min(4)
      .max(1000)
      .nullable()
      .optional()
      .describe("Plate boxes lower than this many pixels (of the frame size) are not read, 4-1000 (default: the recognizer's)"),
    min_confidence: z
      .number()
      .min(0)
      .max(1)
      .nullable()
      .optional()
      .describe("Consensus confidence a track needs to become an event, 0-1 (default: the recognizer's)"),
    confirm_frames: z
      .number()
      .int()
      .min(1)
      .max(10)
      .nullable()
      .optional()
      .describe("Clear frames agreeing on one text that confirm a track at once (early decision), 1-10 (default: the recognizer's)"),
    hwaccel: HwAccelMode.nullable().optional().describe('Hardware decoding of this camera: none, nvdec (-hwaccel cuda) or jetson (-c:v h264_nvv4l2dec); a change restarts its capture (default: none)'),
  })
  .strict()
  .describe('Per-camera recognition settings (absent or null = not set: the edge\'s own setting, else the default)')
  .openapi('CameraRecognition', {
    example: { regions: ['br'], roi: { x: 0, y: 360, width: 1920, height: 720 }, min_plate_height: 20, min_confidence: 0.8, confirm_frames: 3, hwaccel: 'none' },
  });
export type CameraRecognition = z.output<typeof CameraRecognition>;

/** The setting names, as written in the cloud's `metadata.recognition` and on the edge's `cameras[]`. */
export const RECOGNITION_KEYS = Object.keys(CameraRecognition.shape) as Array<keyof CameraRecognition>;

/** Why `roi` does not fit a frame of `frame` size, or null when it lies inside. */
export function roiOutsideFrame(roi: Roi, frame: { width: number; height: number }): string | null {
  if (roi.x + roi.width > frame.width || roi.y + roi.height > frame.height) {
    return `roi ${roi.x},${roi.y} ${roi.width}x${roi.height} does not lie inside the ${frame.width}x${frame.height} frame (x + width ≤ ${frame.width}, y + height ≤ ${frame.height})`;
  }
  return null;
}
