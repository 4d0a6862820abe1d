/**
 * Runs ffmpeg or ffprobe against a camera: explicit stdio, stdout collected up to a limit,
 * stderr kept for the reason of a failure, killed with SIGKILL half a second after the
 * tool's own timeout should have fired. Never rejects and never throws: a tool that cannot be
 * started (not installed, or an argument `spawn` refuses, such as one holding a NUL) is a
 * result with `spawnError`.
 */
import { spawn } from 'node:child_process';
import { setPriority } from 'node:os';

/** The niceness of the tools the cloud starts (0 = the service's own, 19 = the lowest). */
const TOOL_NICE = 10;

export interface ToolRun {
  /** Exit code, or null when killed or not started. */
  code: number | null;
  stdout: Buffer;
  stderr: string;
  /** Killed by our timer (the tool's own timeout did not end it). */
  timedOut: boolean;
  /** stdout passed `maxStdout` and the tool was killed. */
  overflow: boolean;
  /** The tool could not be started (not installed, …). */
  spawnError?: string;
  ms: number;
}

/** The reason without the arguments: Node's message quotes them, and they may hold a camera's password. */
function whySpawnFailed(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ERR_INVALID_ARG_VALUE' || code === 'ERR_INVALID_ARG_TYPE') return 'an argument holds a character no process can take (NUL)';
  return (e as Error).message;
}

export function runTool(cmd: string, args: string[], timeoutS: number, maxStdout = 1 << 20): Promise<ToolRun> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    let stderr = '';
    let timedOut = false;
    let overflow = false;
    let spawnError: string | undefined;
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      resolve({ code: null, stdout: Buffer.alloc(0), stderr: '', timedOut: false, overflow: false, spawnError: whySpawnFailed(e), ms: Date.now() - t0 });
      return;
    }
    // Below the service in the CPU scheduler: a snapshot or a camera test decoding video must
    // not take the cores the API answers on (a no-op where lowering is refused).
    if (child.pid !== undefined) {
      try {
        setPriority(child.pid, TOOL_NICE);
      } catch {
        /* not permitted here: the tool runs at the service's priority */
      }
    }
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutS * 1000 + 500);
    child.stdout!.on('data', (d: Buffer) => {
      bytes += d.length;
      if (bytes > maxStdout) {
        overflow = true;
        child.kill('SIGKILL');
        return;
      }
      chunks.push(d);
    });
    child.stderr!.on('data', (d: Buffer) => {
      if (stderr.length < 16_384) stderr += d.toString();
    });
    child.on('error', (e) => {
      spawnError = e.message;
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(chunks), stderr, timedOut, overflow, spawnError, ms: Date.now() - t0 });
    });
  });
}
