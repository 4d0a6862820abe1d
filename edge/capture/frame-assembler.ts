/**
 * Cuts ffmpeg's rawvideo byte stream into frames. Each frame is filled into a buffer allocated
 * once at its full size, so a frame costs one allocation and one copy per chunk, never a
 * `Buffer.concat` per chunk. Frames are handed out and never reused: a confirmed read keeps a
 * reference to its frame for the event's JPEGs.
 */
export class FrameAssembler {
  readonly frameSize: number;
  private current: Buffer;
  private filled = 0;

  constructor(
    width: number,
    height: number,
    private readonly onFrame: (data: Buffer) => void,
    bytesPerPixel = 3,
  ) {
    this.frameSize = width * height * bytesPerPixel;
    if (!Number.isInteger(this.frameSize) || this.frameSize <= 0) throw new RangeError(`bad frame size ${width}x${height}`);
    this.current = Buffer.allocUnsafe(this.frameSize);
  }

  /** Feeds one chunk of stdout; calls `onFrame` for every frame it completes. */
  push(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length) {
      const n = Math.min(this.frameSize - this.filled, chunk.length - off);
      chunk.copy(this.current, this.filled, off, off + n);
      this.filled += n;
      off += n;
      if (this.filled === this.frameSize) {
        const done = this.current;
        this.current = Buffer.allocUnsafe(this.frameSize);
        this.filled = 0;
        this.onFrame(done);
      }
    }
  }

  /** Drops a partial frame (the process died mid-frame). */
  reset(): void {
    this.filled = 0;
  }

  get pendingBytes(): number {
    return this.filled;
  }
}
