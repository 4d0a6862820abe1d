/** Starts the GStreamer RTSP server script (rtsp-server.py) for a file; resolves with its URL. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { stopChild } from './stop-child.js';

export interface RtspServer {
  url: string;
  /**
   * Calls `cb` for each client whose stream starts playing, with the wall-clock time (epoch ms)
   * at which the file's time 0 was played to it; returns a function that stops the calls.
   */
  onPlaying(cb: (epochMs: number) => void): () => void;
  /** The first client's start time (see onPlaying), once a client plays the stream. */
  playingAt(): Promise<number>;
  close(): Promise<void>;
}

const script = fileURLToPath(new URL('./rtsp-server.py', import.meta.url));

/** Debian's python3 has python3-gi; a pyenv or venv python on PATH usually does not. */
export function systemPython(): string {
  return existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

export async function startRtspServer(o: { file: string; port?: number; path?: string; timeoutMs?: number }): Promise<RtspServer> {
  const child: ChildProcess = spawn(systemPython(), [script, '--port', String(o.port ?? 0), '--path', o.path ?? '/cam1', '--file', o.file], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (c) => (err += c));
  const playing = new Set<(epochMs: number) => void>();
  const first = new Promise<number>((resolve, reject) => {
    playing.add(resolve);
    child.once('close', () => reject(new Error('RTSP server exited before a client played the stream')));
  });
  first.catch(() => {});
  let lines = '';
  child.stdout!.on('data', (c) => {
    lines += c;
    const parts = lines.split('\n');
    lines = parts.pop() ?? '';
    for (const line of parts) {
      const m = /^PLAYING (\d+)/.exec(line.trim());
      if (!m) continue;
      for (const cb of playing) cb(Number(m[1]));
    }
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`RTSP server did not start: ${err || out}`));
    }, o.timeoutMs ?? 15_000);
    child.stdout!.on('data', (c) => {
      out += c;
      const m = /READY (rtsp:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      reject(
        new Error(
          `RTSP server exited (${code}): ${err.trim().split('\n').slice(-3).join(' | ')}` +
            (/No module named 'gi'|GstRtspServer/.test(err) ? ' — install python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-{base,good,bad}' : ''),
        ),
      );
    });
  });
  return {
    url,
    onPlaying(cb) {
      playing.add(cb);
      return () => playing.delete(cb);
    },
    playingAt: () => first,
    close: () => stopChild(child, 3000),
  };
}
