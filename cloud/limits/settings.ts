/**
 * The cloud's load limits, read once from the environment (defaults in brackets):
 *  - `ANPR_EXPORTS_PER_USER` [2] and `ANPR_EXPORTS_TOTAL` [8]: CSV exports streaming at once;
 *  - `ANPR_FFMPEG_MAX` [4]: ffmpeg/ffprobe processes the cloud runs at once (snapshots, camera
 *    tests), `ANPR_FFMPEG_QUEUE` [8]: requests that may wait for one;
 *  - `ANPR_RECOGNIZE_QUEUE` [4]: `POST /recognize` images accepted at once (one runs, the rest wait);
 *  - `ANPR_MAX_IMAGE_PIXELS` [40000000]: largest image `POST /recognize` decodes (width × height);
 *  - `ANPR_PROBE_DENY_LOCAL` [off]: camera and exporter tests refuse loopback and link-local
 *    destinations (docs/cloud-limits.md says why it is off by default).
 * Beyond a limit the answer is 429 with Retry-After (413 for pixels), never a queue that grows.
 */
import { AppError } from '../../shared/errors.js';

export interface CloudLimits {
  exportsPerUser: number;
  exportsTotal: number;
  ffmpegMax: number;
  ffmpegQueue: number;
  recognizeQueue: number;
  maxImagePixels: number;
  probeDenyLocal: boolean;
}

export const DEFAULT_LIMITS: CloudLimits = {
  exportsPerUser: 2,
  exportsTotal: 8,
  ffmpegMax: 4,
  ffmpegQueue: 8,
  recognizeQueue: 4,
  maxImagePixels: 40_000_000,
  probeDenyLocal: false,
};

const NUMBERS: Array<[keyof CloudLimits, string, number]> = [
  ['exportsPerUser', 'ANPR_EXPORTS_PER_USER', 1],
  ['exportsTotal', 'ANPR_EXPORTS_TOTAL', 1],
  ['ffmpegMax', 'ANPR_FFMPEG_MAX', 1],
  ['ffmpegQueue', 'ANPR_FFMPEG_QUEUE', 0],
  ['recognizeQueue', 'ANPR_RECOGNIZE_QUEUE', 1],
  ['maxImagePixels', 'ANPR_MAX_IMAGE_PIXELS', 1],
];

/** Limits from `env`; a malformed value is a CONFIG_INVALID error naming the variable. */
export function limitsFromEnv(env: NodeJS.ProcessEnv): CloudLimits {
  const out: CloudLimits = { ...DEFAULT_LIMITS };
  for (const [key, name, min] of NUMBERS) {
    const v = env[name];
    if (v === undefined || v === '') continue;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new AppError('CONFIG_INVALID', `${name} must be an integer of at least ${min}, got '${v}'`);
    (out[key] as number) = n;
  }
  const deny = env.ANPR_PROBE_DENY_LOCAL;
  if (deny !== undefined && deny !== '') {
    if (!/^(1|0|true|false|yes|no)$/i.test(deny)) throw new AppError('CONFIG_INVALID', `ANPR_PROBE_DENY_LOCAL must be 1 or 0, got '${deny}'`);
    out.probeDenyLocal = /^(1|true|yes)$/i.test(deny);
  }
  return out;
}

let current: CloudLimits | undefined;

/** The process's limits: `process.env` at first use (one cloud per process in production). */
export function cloudLimits(): CloudLimits {
  current ??= limitsFromEnv(process.env);
  return current;
}
