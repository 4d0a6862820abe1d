/**
 * Packed RGB24 frames piped into ffmpeg and encoded as an H.264 MP4: the demo's synthetic
 * camera, the live evaluation's video of labelled photos and the tests' generated clips.
 * Writes wait for the pipe to drain (frames are never buffered in memory); a write after
 * ffmpeg died is dropped and `end` reports why it died.
 */
import { spawn } from 'node:child_process';
import { AppError } from '../../shared/errors.js';

export interface H264WriterOptions {
  width: number;
  height: number;
  fps: number;
  /** Frames between keyframes. */
  gop: number;
  /** x264 preset (default veryfast). */
  preset?: 'ultrafast' | 'veryfast';
  /** No B-frames, as IP cameras send (default: x264's own choice). */
  noBFrames?: boolean;
  /** x264 tune, e.g. 'stillimage'. */
  tune?: string;
}

export interface H264Writer {
  /** Writes `frame` (width*height*3 bytes) `times` times. */
  write(frame: Buffer, times?: number): Promise<void>;
  /** Closes the input; resolves once the file is complete. */
  end(): Promise<void>;
  /** Stops ffmpeg at once (the file is left incomplete). */
  kill(): void;
}

export function startH264Writer(file: string, o: H264WriterOptions): H264Writer {
  const size = o.width * o.height * 3;
  const ff = spawn(
    'ffmpeg',
    [
      '-hide_banner', '-loglevel', 'error', '-y',
      '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${o.width}x${o.height}`, '-r', String(o.fps), '-i', 'pipe:0',
      '-c:v', 'libx264', '-preset', o.preset ?? 'veryfast',
      ...(o.tune ? ['-tune', o.tune] : []),
      ...(o.noBFrames ? ['-bf', '0'] : []),
      '-g', String(o.gop), '-pix_fmt', 'yuv420p', '-movflags', '+faststart', file,
    ],
    { stdio: ['pipe', 'ignore', 'pipe'] },
  );
  let err = '';
  ff.stderr.on('data', (c) => (err += c));
  // A write after ffmpeg died must not throw EPIPE past `done`.
  ff.stdin.on('error', () => {});
  const done = new Promise<void>((resolve, reject) => {
    ff.on('error', (e) => reject(new AppError('INTERNAL_ERROR', `cannot run ffmpeg: ${e.message}`)));
    ff.on('close', (code) => (code === 0 ? resolve() : reject(new AppError('INTERNAL_ERROR', `ffmpeg could not encode ${file} (${code}): ${err.trim().slice(-500)}`))));
  });
  done.catch(() => {});
  return {
    async write(frame, times = 1) {
      if (frame.length !== size) throw new AppError('INTERNAL_ERROR', `a ${o.width}x${o.height} frame has ${size} bytes, got ${frame.length}`);
      for (let k = 0; k < times; k++) {
        if (ff.exitCode !== null) return;
        if (!ff.stdin.write(frame)) await new Promise((r) => ff.stdin.once('drain', r));
      }
    },
    end() {
      ff.stdin.end();
      return done;
    },
    kill() {
      ff.kill('SIGKILL');
    },
  };
}
