/**
 * The one gate every ffmpeg/ffprobe the cloud starts goes through (snapshots, camera tests).
 * Guarantees: at most `ANPR_FFMPEG_MAX` such processes at once in this process, at most
 * `ANPR_FFMPEG_QUEUE` requests waiting for one, and any further request refused at once with
 * 429 CONCURRENCY_LIMIT_EXCEEDED (`SlotsFull`) instead of one more process (~15 MB each).
 */
import { runTool, type ToolRun } from '../probes/run-tool.js';
import { cloudLimits } from './settings.js';
import { Slots } from './slots.js';

let slots: Slots | undefined;

export function ffmpegSlots(): Slots {
  const l = cloudLimits();
  slots ??= new Slots({ what: 'camera requests (ffmpeg)', total: l.ffmpegMax, queue: l.ffmpegQueue, retryAfterS: 2 });
  return slots;
}

/** `runTool` once a slot is free; rejects with SlotsFull when the line is full. */
export async function runCameraTool(cmd: string, args: string[], timeoutS: number, maxStdout?: number): Promise<ToolRun> {
  const release = await ffmpegSlots().acquire();
  try {
    return await runTool(cmd, args, timeoutS, maxStdout);
  } finally {
    release();
  }
}
