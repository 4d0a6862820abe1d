/**
 * Per-camera capture settings set from the cloud (`metadata.capture` of a camera): how long a
 * silent stream is waited for, and extra ffmpeg input options. One schema for both sides: the
 * cloud's config API validates them (400 naming the field), the edge checks each camera it is
 * served with it (a bad setting is reported and dropped; the camera runs with its default).
 *
 * ffmpeg input options from the cloud are an allowlist of option names with plain values: the
 * cloud's admins may tune how a stream is read, but may not add inputs, outputs, filters or
 * files to a process on every gate box. The edge's own file (`ffmpeg_input_args`) is the
 * installer's, on the box, and is not restricted.
 */
import { z } from './common.js';

/** Input options an admin may set from the cloud (each takes one value). */
export const CLOUD_FFMPEG_INPUT_OPTIONS = [
  '-rtsp_transport',
  '-rtsp_flags',
  '-allowed_media_types',
  '-timeout',
  '-rw_timeout',
  '-analyzeduration',
  '-probesize',
  '-fflags',
  '-flags',
  '-max_delay',
  '-reorder_queue_size',
  '-buffer_size',
  '-user_agent',
  '-hwaccel_device',
  '-c:v',
  '-vcodec',
  '-thread_queue_size',
] as const;

/** A plain option value: no leading dash (never a second option), no control characters, no path separators or URLs. */
const OptionValue = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9+_.,:=-]+$/, 'must be 1-128 characters of A-Z a-z 0-9 + _ . , : = -')
  .refine((v) => !v.startsWith('-') || /^-?\d+(\.\d+)?$/.test(v), 'must not start with - (that would be another option)');

export const FfmpegInputOption = z
  .object({
    option: z.enum(CLOUD_FFMPEG_INPUT_OPTIONS).describe(`ffmpeg input option: ${CLOUD_FFMPEG_INPUT_OPTIONS.join(' ')}`),
    value: OptionValue,
  })
  .strict()
  .openapi('FfmpegInputOption');

export const CameraCapture = z
  .object({
    heartbeat_s: z
      .number()
      .min(1)
      .max(300)
      .nullable()
      .optional()
      .describe('No frame for this many seconds = stream dead, ffmpeg restarted, 1-300 (default: the edge file\'s, else 10)'),
    input_options: z
      .array(FfmpegInputOption)
      .max(16)
      .nullable()
      .optional()
      .describe('Extra ffmpeg input options (before -i), from an allowlist; applied live (the capture restarts) (default: the edge file\'s `ffmpeg_input_args`)'),
  })
  .strict()
  .describe('Per-camera capture settings (absent or null = not set: the edge\'s own setting, else the default)')
  .openapi('CameraCapture', { example: { heartbeat_s: 15, input_options: [{ option: '-analyzeduration', value: '2000000' }] } });
export type CameraCapture = z.output<typeof CameraCapture>;

/** The options as ffmpeg arguments, in order. */
export const captureInputArgs = (c: CameraCapture): string[] => (c.input_options ?? []).flatMap((o) => [o.option, o.value]);
