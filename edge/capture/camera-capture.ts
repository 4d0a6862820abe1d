/**
 * One supervised ffmpeg per camera.
 *
 * - ffmpeg is spawned directly (no shell) with explicit stdio: stdin for `q`, stdout raw RGB24
 *   frames, stderr kept as the last few lines for diagnosis.
 * - Heartbeat: once a run has delivered its first frame, no frame within `heartbeatMs` means the
 *   process is dead; it is stopped and restarted. Before the first frame a run has
 *   `startTimeoutMs` (default the larger of 10 s and `heartbeatMs`): connecting, the RTSP handshake
 *   and ffmpeg's stream probing take seconds on a busy box, and a heartbeat shorter than that
 *   killed every start of a healthy camera (each retry waiting longer under backoff).
 * - Stop: `q` on stdin, then SIGTERM, then SIGKILL, each after `stopGraceMs`.
 * - Restarts are paced by exponential backoff with jitter (1 s doubling to 10 s: a camera that
 *   rebooted is read again within seconds of answering); the attempt counter resets once a run
 *   has delivered frames for `stableMs`.
 * - Never queue stale frames: only the latest frame is kept; a newer one replaces it (counted
 *   as dropped) while the consumer is busy.
 * - Credentials never reach a log line or an error: every command line and stderr line goes
 *   through `redactUrl`.
 * - `start()` never throws. A source ffmpeg can never be started with (spawn refuses it
 *   synchronously, e.g. a NUL byte in the URL) puts the capture in state `failed`, logged once,
 *   never retried: the caller's other cameras are not affected.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Logger } from '../../shared/log.js';
import { redactUrl, silentLogger } from '../../shared/log.js';
import type { Frame } from '../contracts.js';
import { FrameAssembler } from './frame-assembler.js';
import { ffmpegArgs, safeCommandLine, type SourceSpec } from './ffmpeg-args.js';
import { backoffDelay, type BackoffOptions } from './backoff.js';

const DEFAULT_START_TIMEOUT_MS = 10_000;
const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 1_000, maxMs: 10_000, jitter: 'equal' };

export interface CaptureOptions extends SourceSpec {
  cameraId: string;
  ffmpegPath?: string;
  heartbeatMs?: number;
  /** Allowance for a run's first frame; default max(10 s, heartbeatMs). */
  startTimeoutMs?: number;
  stopGraceMs?: number;
  stableMs?: number;
  backoff?: BackoffOptions;
  logger?: Logger;
}

export type CaptureState = 'idle' | 'starting' | 'running' | 'backoff' | 'stopping' | 'stopped' | 'failed';

export interface CaptureStatus {
  cameraId: string;
  state: CaptureState;
  frames: number;
  dropped: number;
  restarts: number;
  /** Frames per second over the last few seconds. */
  fps: number;
  lastFrameAt: number | null;
  /** Age of the latest frame when the consumer took it, ms. */
  decodeLagMs: number;
  lastError: string | null;
  pid: number | null;
}

export class CameraCapture extends EventEmitter {
  private readonly o: Required<Pick<CaptureOptions, 'heartbeatMs' | 'stopGraceMs' | 'stableMs' | 'ffmpegPath'>> & CaptureOptions;
  private readonly log: Logger;
  private child: ChildProcess | null = null;
  private state: CaptureState = 'idle';
  private seq = 0;
  private frames = 0;
  private dropped = 0;
  private restarts = 0;
  private attempt = 0;
  private lastFrameAt: number | null = null;
  private runStartedAt = 0;
  private lastError: string | null = null;
  private decodeLagMs = 0;
  private fpsWindow: number[] = [];
  private latest: Frame | null = null;
  private waiter: ((f: Frame | null) => void) | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private restartTimer: NodeJS.Timeout | null = null;
  private exited: Promise<void> = Promise.resolve();
  private stderrTail: string[] = [];
  /** Set when the supervisor itself killed the run (heartbeat), so the exit is not misreported. */
  private killReason: string | null = null;
  private readonly startTimeoutMs: number;

  constructor(opts: CaptureOptions) {
    super();
    const defined = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) as CaptureOptions;
    this.o = { heartbeatMs: 10_000, stopGraceMs: 2_000, stableMs: 30_000, ffmpegPath: 'ffmpeg', ...defined };
    this.startTimeoutMs = defined.startTimeoutMs ?? Math.max(DEFAULT_START_TIMEOUT_MS, this.o.heartbeatMs);
    this.log = (opts.logger ?? silentLogger).child({ camera: opts.cameraId });
  }

  /** Starts capturing; restarts forever until `stop()` (or until the source proves unstartable: state `failed`). Never throws. */
  start(): void {
    if (this.state !== 'idle' && this.state !== 'stopped') return;
    this.spawnOnce();
  }

  /**
   * The latest frame, waiting for one when none is pending; `null` once stopped.
   * Frames that arrived while the caller was busy were dropped except the newest.
   */
  nextFrame(): Promise<Frame | null> {
    if (this.latest) {
      const f = this.latest;
      this.latest = null;
      this.decodeLagMs = Date.now() - f.ts;
      return Promise.resolve(f);
    }
    if (this.state === 'stopped' || this.state === 'stopping' || this.state === 'failed') return Promise.resolve(null);
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  /** Frames as an async iterable with latest-frame semantics. */
  async *stream(): AsyncGenerator<Frame> {
    for (;;) {
      const f = await this.nextFrame();
      if (!f) return;
      yield f;
    }
  }

  status(): CaptureStatus {
    const now = Date.now();
    this.fpsWindow = this.fpsWindow.filter((t) => now - t < 5_000);
    return {
      cameraId: this.o.cameraId,
      state: this.state,
      frames: this.frames,
      dropped: this.dropped,
      restarts: this.restarts,
      fps: this.fpsWindow.length / 5,
      lastFrameAt: this.lastFrameAt,
      decodeLagMs: this.decodeLagMs,
      lastError: this.lastError,
      pid: this.child?.pid ?? null,
    };
  }

  /** Stops the process (`q`, SIGTERM, SIGKILL) and any pending restart. */
  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'idle' || this.state === 'failed') {
      this.state = 'stopped';
      return;
    }
    this.state = 'stopping';
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    await this.terminate();
    this.state = 'stopped';
    this.latest = null;
    this.clearHeartbeat();
    const w = this.waiter;
    this.waiter = null;
    w?.(null);
  }

  private spawnOnce(): void {
    let args: string[];
    let child: ChildProcess;
    try {
      args = ffmpegArgs(this.o);
      this.log.info({ cmd: safeCommandLine(this.o.ffmpegPath, args) }, 'starting ffmpeg');
      child = spawn(this.o.ffmpegPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (e) {
      // Thrown synchronously: these arguments can never be run, so a restart would fail the same way.
      this.fail(`cannot start ffmpeg: ${redactUrl((e as Error).message).replace(/[\u0000-\u001f\u007f]/g, '\uFFFD').slice(0, 300)}`);
      return;
    }
    this.state = 'starting';
    this.runStartedAt = Date.now();
    this.stderrTail = [];
    const assembler = new FrameAssembler(this.o.width, this.o.height, (data) => this.onFrame(data));
    this.child = child;
    let resolveExit!: () => void;
    this.exited = new Promise((r) => (resolveExit = r));
    child.stdout!.on('data', (chunk: Buffer) => assembler.push(chunk));
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => {
      for (const line of text.split('\n')) {
        if (!line.trim()) continue;
        const safe = redactUrl(line).slice(0, 500);
        this.stderrTail.push(safe);
        if (this.stderrTail.length > 10) this.stderrTail.shift();
        this.log.warn({ stderr: safe }, 'ffmpeg');
      }
    });
    // EPIPE on stdin when ffmpeg died first is expected.
    child.stdin!.on('error', () => {});
    child.on('error', (err) => {
      this.lastError = redactUrl(err.message);
      this.log.error({ err: this.lastError }, 'ffmpeg failed to start');
    });
    child.on('close', (code, signal) => {
      resolveExit();
      if (this.child === child) this.child = null;
      assembler.reset();
      if (this.state === 'stopping' || this.state === 'stopped') return;
      if (this.killReason) return;
      const why = `ffmpeg exited (code ${code ?? '-'}, signal ${signal ?? '-'})${this.stderrTail.length ? ': ' + this.stderrTail[this.stderrTail.length - 1] : ''}`;
      this.lastError = why;
      this.scheduleRestart(why);
    });
    this.armHeartbeat();
  }

  /** The source can never be captured: stop for good (no restart), wake a waiting consumer. */
  private fail(why: string): void {
    this.state = 'failed';
    this.lastError = why;
    this.clearHeartbeat();
    this.log.error({ error: why }, 'camera failed; not retried until its configuration changes');
    const w = this.waiter;
    this.waiter = null;
    w?.(null);
  }

  private onFrame(data: Buffer): void {
    const now = Date.now();
    if (this.state === 'starting') this.state = 'running';
    this.frames++;
    this.lastFrameAt = now;
    this.fpsWindow.push(now);
    if (this.fpsWindow.length > 1000) this.fpsWindow.splice(0, 500);
    if (this.attempt > 0 && now - this.runStartedAt >= this.o.stableMs) this.attempt = 0;
    const frame: Frame = { cameraId: this.o.cameraId, seq: ++this.seq, ts: now, width: this.o.width, height: this.o.height, data };
    const w = this.waiter;
    if (w) {
      this.waiter = null;
      this.decodeLagMs = 0;
      w(frame);
      return;
    }
    if (this.latest) this.dropped++;
    this.latest = frame;
    this.emit('frame', frame.seq);
  }

  private armHeartbeat(): void {
    this.clearHeartbeat();
    const tick = Math.max(50, Math.min(1000, Math.min(this.o.heartbeatMs, this.startTimeoutMs) / 4));
    this.heartbeat = setInterval(() => {
      if (this.state !== 'starting' && this.state !== 'running') return;
      const started = this.lastFrameAt !== null && this.lastFrameAt >= this.runStartedAt;
      const since = started ? this.lastFrameAt! : this.runStartedAt;
      const limit = started ? this.o.heartbeatMs : this.startTimeoutMs;
      if (Date.now() - since > limit) {
        const why = started ? `no frame for ${limit} ms` : `no first frame within ${limit} ms`;
        this.lastError = why;
        this.log.warn(why + '; restarting ffmpeg');
        this.clearHeartbeat();
        this.state = 'backoff';
        this.killReason = why;
        void this.terminate().then(() => {
          this.killReason = null;
          this.scheduleRestart(why);
        });
      }
    }, tick);
    this.heartbeat.unref();
  }

  private clearHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }

  private scheduleRestart(why: string): void {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    if (this.restartTimer) return;
    this.clearHeartbeat();
    this.state = 'backoff';
    const delay = backoffDelay(this.attempt++, this.o.backoff ?? DEFAULT_BACKOFF);
    this.restarts++;
    this.log.warn({ delayMs: delay, restarts: this.restarts }, `camera down (${why}); restarting`);
    this.emit('restart', { why, delayMs: delay });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (this.state === 'backoff') this.spawnOnce();
    }, delay);
  }

  /** `q`, then SIGTERM, then SIGKILL; resolves once the process is gone. */
  private async terminate(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return this.exited;
    const gone = this.exited;
    const waitFor = (ms: number) =>
      Promise.race([gone.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
    try {
      child.stdin!.end('q\n');
    } catch {
      /* stdin already closed */
    }
    if (await waitFor(this.o.stopGraceMs)) return;
    child.kill('SIGTERM');
    if (await waitFor(this.o.stopGraceMs)) return;
    this.log.warn('ffmpeg ignored q and SIGTERM; sending SIGKILL');
    child.kill('SIGKILL');
    await gone;
  }
}
