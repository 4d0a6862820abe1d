/**
 * Runs ffmpeg or ffprobe against a camera: explicit stdio, stdout collected up to a limit,
 * stderr kept for the reason of a failure, killed with SIGKILL half a second after the
 * tool's own timeout should have fired. Never rejects.
 */
import { spawn } from 'node:child_process';

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

export function runTool(cmd: string, args: string[], timeoutS: number, maxStdout = 1 << 20): Promise<ToolRun> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    let stderr = '';
    let timedOut = false;
    let overflow = false;
    let spawnError: string | undefined;
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutS * 1000 + 500);
    child.stdout.on('data', (d: Buffer) => {
      bytes += d.length;
      if (bytes > maxStdout) {
        overflow = true;
        child.kill('SIGKILL');
        return;
      }
      chunks.push(d);
    });
    child.stderr.on('data', (d: Buffer) => {
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
