/**
 * An RFID reader on a serial port (sensor type `rfid`): the tag read with a plate can be a
 * list entry's second factor.
 *
 * - Format `line`: one tag per line, printable ASCII (spaces allowed inside), 1-64 characters
 *   after trimming, kept as sent. Other lines are dropped and counted.
 * - Format `rdm6300` (the RDM6300 125 kHz module): frames of 14 bytes, 0x02, 10 hex digits
 *   (version byte and 4-byte card number), 2 hex digits of checksum (the XOR of the 5 bytes),
 *   0x03. The tag is the 10 digits in upper case. A frame with a bad checksum or a malformed
 *   frame is dropped and counted (`stats.bad`); the parser then resynchronises on the next
 *   0x02, so one corrupt byte costs one frame. Bytes outside frames are ignored.
 * - A module that repeats a tag while the card is held gives one reading per frame.
 * - Readings are kept time-indexed (`readingsBetween`); the port is supervised by
 *   SerialDevice (a device that disappears is reported and reopened with backoff, never thrown).
 */
import type { RfidConfig } from '../../shared/schemas/sensor-config.js';
import { LineSplitter } from './line-splitter.js';
import { SerialReader, type SerialReaderOptions } from './serial-reader.js';

export interface RfidReading {
  at: number;
  tag: string;
}

/** A tag from one line of a `line` reader, or null when the line is not one. */
export function parseRfidLine(line: string): string | null {
  const tag = line.trim();
  return /^[\x20-\x7e]{1,64}$/.test(tag) ? tag : null;
}

const STX = 0x02;
const ETX = 0x03;
const FRAME = 14;
const HEX = /^[0-9A-Fa-f]+$/;

/** The checksum byte of an RDM6300 frame whose 10 data digits are `digits`. */
export function rdm6300Checksum(digits: string): number {
  let x = 0;
  for (let i = 0; i < 10; i += 2) x ^= parseInt(digits.slice(i, i + 2), 16);
  return x;
}

/** A complete RDM6300 frame for a 10-digit tag (what the module sends; tests and tools use it). */
export function rdm6300Frame(tag: string, checksum = rdm6300Checksum(tag)): Buffer {
  return Buffer.concat([Buffer.from([STX]), Buffer.from(tag.toUpperCase() + checksum.toString(16).toUpperCase().padStart(2, '0'), 'latin1'), Buffer.from([ETX])]);
}

/** Finds RDM6300 frames in a byte stream split anyhow across chunks. */
export class Rdm6300Framer {
  private buf: Buffer = Buffer.alloc(0);
  /** Frames dropped: bad checksum, or malformed (no ETX, not hex). */
  bad = 0;

  /** The tags of the frames that `chunk` completes. */
  push(chunk: Buffer): string[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const tags: string[] = [];
    let i = 0;
    for (;;) {
      const start = this.buf.indexOf(STX, i);
      if (start < 0) {
        i = this.buf.length;
        break;
      }
      if (this.buf.length - start < FRAME) {
        i = start;
        break;
      }
      const body = this.buf.subarray(start + 1, start + 13).toString('latin1');
      if (this.buf[start + 13] !== ETX || !HEX.test(body)) {
        this.bad++;
        i = start + 1; // resynchronise on the next STX
        continue;
      }
      const digits = body.slice(0, 10);
      if (parseInt(body.slice(10), 16) !== rdm6300Checksum(digits)) this.bad++;
      else tags.push(digits.toUpperCase());
      i = start + FRAME;
    }
    this.buf = Buffer.from(this.buf.subarray(i));
    return tags;
  }
}

export type RfidReaderOptions = SerialReaderOptions<RfidReading>;

export class RfidReader extends SerialReader<RfidReading> {
  private readonly lines = new LineSplitter(256);
  private readonly frames = new Rdm6300Framer();
  private badLines = 0;
  private good = 0;

  constructor(
    private readonly cfg: RfidConfig,
    o: RfidReaderOptions = {},
  ) {
    super(cfg, o);
  }

  feed(chunk: Buffer): void {
    let tags: string[];
    if (this.cfg.format === 'rdm6300') tags = this.frames.push(chunk);
    else {
      tags = [];
      for (const line of this.lines.push(chunk)) {
        const tag = parseRfidLine(line);
        if (tag) tags.push(tag);
        else this.badLines++;
      }
    }
    for (const tag of tags) {
      this.good++;
      const r = this.buffer.push({ tag, at: this.now() });
      this.o.onReading?.(r);
    }
  }

  /** Tags read, and lines or frames dropped (bad checksum, malformed, not ASCII, too long). */
  get stats(): { readings: number; bad: number } {
    return { readings: this.good, bad: this.badLines + this.lines.overflows + this.frames.bad };
  }
}
