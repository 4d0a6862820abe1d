/**
 * Bytes from a serial port into text lines. A line ends at LF, CR or CRLF (a CRLF split across
 * two chunks yields an empty line, which is skipped, as are all empty lines). Bytes are read as
 * latin1, one character per byte, so a reader can refuse what is not ASCII. A line longer than
 * `maxLine` (a device sending garbage with no line end) is dropped whole and counted: memory
 * stays bounded whatever the device sends.
 */
export class LineSplitter {
  private partial = '';
  private skipping = false;
  /** Lines dropped for being longer than `maxLine`. */
  overflows = 0;

  constructor(private readonly maxLine = 1024) {}

  /** The complete, non-empty lines that `chunk` finishes. */
  push(chunk: Buffer): string[] {
    const parts = (this.partial + chunk.toString('latin1')).split(/\r\n|\r|\n/);
    this.partial = parts.pop()!;
    const lines: string[] = [];
    for (const p of parts) {
      if (this.skipping) {
        this.skipping = false; // the end of the overlong line
        continue;
      }
      if (p.length > this.maxLine) this.overflows++;
      else if (p.length > 0) lines.push(p);
    }
    if (this.partial.length > this.maxLine) {
      if (!this.skipping) this.overflows++;
      this.skipping = true;
      this.partial = '';
    }
    return lines;
  }
}
