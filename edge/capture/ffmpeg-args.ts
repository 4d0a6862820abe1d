/**
 * The ffmpeg command line for one camera: any source ffmpeg reads (RTSP over TCP, HTTP/MJPEG,
 * files) decoded to packed RGB24 at the camera's size and rate on stdout.
 *
 * The picture is fitted into the camera's size with its aspect ratio kept (black bars where the
 * shapes differ), never stretched: plate detection judges boxes by their shape, and a 4:3 camera
 * stretched to the default 16:9 widened a plate's text past the widest plate shape, so a plate
 * that read at 320x240 was never found at 1280x720.
 */
import { redactUrl } from '../../shared/log.js';

/** Hardware decoding: `none`, NVDEC on x86 (`nvdec`), the Jetson decoder (`jetson`), or raw args. */
export type HwAccel = 'none' | 'nvdec' | 'jetson' | { args: string[] };

export interface SourceSpec {
  url: string;
  width: number;
  height: number;
  fps: number;
  hwaccel?: HwAccel;
  /** Files only: read at native speed (like a camera) and loop forever. Default true. */
  realtime?: boolean;
  loop?: boolean;
  /** Extra input options, inserted before `-i`. */
  inputArgs?: string[];
  /** Socket timeout for network sources, seconds. */
  ioTimeoutS?: number;
}

export type SourceKind = 'rtsp' | 'http' | 'file' | 'other';

export function sourceKind(url: string): SourceKind {
  if (/^rtsps?:\/\//i.test(url)) return 'rtsp';
  if (/^https?:\/\//i.test(url)) return 'http';
  if (/^file:/i.test(url) || !/^[a-z][a-z0-9+.-]*:/i.test(url)) return 'file';
  return 'other';
}

function hwArgs(hw: HwAccel | undefined): string[] {
  if (!hw || hw === 'none') return [];
  if (hw === 'nvdec') return ['-hwaccel', 'cuda'];
  // Jetson: NVIDIA's JetPack ffmpeg decodes H.264 with the V4L2 hardware decoder `h264_nvv4l2dec`
  // (Debian's ffmpeg has none). HEVC cameras or other builds (e.g. `h264_nvmpi`) use { args }
  // or the camera's `ffmpeg_input_args`.
  if (hw === 'jetson') return ['-c:v', 'h264_nvv4l2dec'];
  return hw.args;
}

/** Builds ffmpeg's argv (without the binary). */
export function ffmpegArgs(s: SourceSpec): string[] {
  const kind = sourceKind(s.url);
  const timeoutUs = String(Math.round((s.ioTimeoutS ?? 10) * 1_000_000));
  const input: string[] = [];
  // A live source is decoded without the decoder's frame delay: a new picture reached the
  // recognizer 0.5 s after the RTSP server sent it, 0.3 s with `-flags low_delay` (measured on
  // Debian's ffmpeg 5.1 against the GStreamer server). `-fflags nobuffer` is NOT used: with it
  // this ffmpeg wrote no frame at all from an RTSP H.264 stream.
  const live = ['-flags', 'low_delay'];
  // ffmpeg's stream probing estimates the frame rate from ~20 frames before it writes the first
  // one: 3 s of blindness after every (re)connect, 1 s without it (measured against the GStreamer
  // server at 10 fps). The rate is not needed: frames are resampled to `fps`. The size still
  // comes from the probe, so cameras without parameter sets in their SDP keep working.
  if (kind === 'rtsp') input.push('-rtsp_transport', 'tcp', '-timeout', timeoutUs, '-fpsprobesize', '0', ...live);
  if (kind === 'http') input.push('-rw_timeout', timeoutUs, '-reconnect', '0', ...live);
  if (kind === 'file') {
    if (s.realtime ?? true) input.push('-re');
    if (s.loop ?? true) input.push('-stream_loop', '-1');
  }
  const url = kind === 'file' ? s.url.replace(/^file:(\/\/)?/i, '') : s.url;
  return [
    '-hide_banner',
    '-loglevel', 'error',
    ...hwArgs(s.hwaccel),
    ...(s.inputArgs ?? []),
    ...input,
    '-i', url,
    '-an', '-sn', '-dn',
    '-vf', fitFilter(s.width, s.height),
    '-r', String(s.fps),
    '-f', 'rawvideo',
    '-pix_fmt', 'rgb24',
    'pipe:1',
  ];
}

/**
 * Scales into `width`×`height` keeping the aspect ratio and centres the picture on black (no
 * bars when the shapes match). The scaler converts to RGB24 in the same pass; the pad adds
 * only a copy of the frame.
 */
export function fitFilter(width: number, height: number): string {
  return `scale=${width}:${height}:force_original_aspect_ratio=decrease,format=rgb24,pad=${width}:${height}:(ow-iw)/2:(oh-ih)/2`;
}

/** The command line as it may be logged: credentials masked. */
export function safeCommandLine(bin: string, args: string[]): string {
  return redactUrl([bin, ...args].join(' '));
}
