/**
 * Reading a large list body (a list with its entries, or entries as JSON or CSV) without
 * holding more than needed, and refusing an oversized one early.
 *
 * Guarantees:
 * - At most `maxBytes` bytes are read (the app-wide limit of cloud/http/body-limit.ts refuses a
 *   larger declared length before this runs; a chunked body is counted here as well).
 * - More than `maxEntries` entries is a 413 naming MAX_LIST_ENTRIES as soon as the entry past it
 *   arrives: a JSON body is scanned as it streams (objects opened directly inside an array of
 *   the top-level object: `{"entries":[{…},{…}]}`), a CSV body is parsed and validated as it
 *   streams (cloud/lists/entries-csv.ts). The rest of the body is never read, and the
 *   connection is closed after the answer rather than drained.
 * - JSON: the text is parsed once, whole, and bounded in depth like every JSON body
 *   (MAX_BODY_DEPTH: a 400 naming the field), measured by the same scan; CSV: only validated
 *   entries are held, never the file's text.
 */
import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import { AppError } from '../../shared/errors.js';
import type { ListEntry } from '../../shared/schemas/lists.js';
import { checkBodyDepth } from '../http/errors.js';
import { MAX_BODY_DEPTH } from '../../shared/schemas/json-bounds.js';
import { tooManyEntries } from '../store/lists-store.js';
import { CsvEntriesImport } from './entries-csv.js';

/** The largest list body, bytes: 200,000 entries of about 300 bytes. */
export const LIST_BODY_MAX_BYTES = 64 * 1024 * 1024;

const OPEN_OBJ = 0x7b; // {
const CLOSE_OBJ = 0x7d; // }
const OPEN_ARR = 0x5b; // [
const CLOSE_ARR = 0x5d; // ]
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \

/**
 * Counts, as bytes stream by, the objects opened directly inside an array that is a value of the
 * top-level object: the entries of `{"entries":[…]}`. UTF-8 never puts these ASCII bytes inside a
 * multi-byte character, so bytes are scanned, not decoded text.
 */
export class JsonEntryCounter {
  count = 0;
  /** The deepest nesting seen: 1 = the top-level object (as jsonTooDeep counts). */
  maxDepth = 0;
  private depth = 0;
  /** Whether the container at depth 2 is an array. */
  private arrayAt2 = false;
  private inString = false;
  private escaped = false;

  constructor(private readonly max: number) {}

  push(bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (b === BACKSLASH) this.escaped = true;
        else if (b === QUOTE) this.inString = false;
        continue;
      }
      if (b === QUOTE) this.inString = true;
      else if (b === OPEN_OBJ) {
        if (this.depth === 2 && this.arrayAt2 && ++this.count > this.max) throw tooManyEntries(this.max);
        if (++this.depth > this.maxDepth) this.maxDepth = this.depth;
      } else if (b === OPEN_ARR) {
        if (++this.depth > this.maxDepth) this.maxDepth = this.depth;
        if (this.depth === 2) this.arrayAt2 = true;
      } else if (b === CLOSE_OBJ || b === CLOSE_ARR) {
        if (this.depth === 2) this.arrayAt2 = false;
        this.depth--;
      }
    }
  }
}

/**
 * The Node request itself when the body is still unread on it: a body with a declared length
 * (the app-wide limit checked only its header). Read from there, a 14 MB body costs a third of
 * what the Web stream adapter around it does (a copy of every chunk).
 */
function nodeBody(c: Context): IncomingMessage | undefined {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (!incoming || c.req.header('transfer-encoding') !== undefined || incoming.readableDidRead) return undefined;
  return incoming;
}

/** Reads the body chunk by chunk into `onChunk`; stops (closing the connection) on the first error. */
async function stream(c: Context, maxBytes: number, onChunk: (bytes: Uint8Array) => void): Promise<void> {
  let size = 0;
  const take = (value: Uint8Array) => {
    size += value.byteLength;
    if (size > maxBytes) throw new AppError('PAYLOAD_TOO_LARGE', `Request body exceeds ${maxBytes} bytes`);
    onChunk(value);
  };
  const incoming = nodeBody(c);
  if (incoming) {
    try {
      await new Promise<void>((resolve, reject) => {
        const done = (e?: unknown) => {
          incoming.off('data', onData).off('end', done).off('error', done).off('aborted', onAborted);
          if (e === undefined) resolve();
          else {
            // Stop reading, but keep the socket: the answer goes out on it (then it is closed).
            incoming.pause();
            reject(e);
          }
        };
        const onData = (chunk: Buffer) => {
          try {
            take(chunk);
          } catch (e) {
            done(e);
          }
        };
        const onAborted = () => done(new AppError('INVALID_REQUEST', 'The request body was cut off'));
        incoming.on('data', onData).once('end', done).once('error', done).once('aborted', onAborted);
      });
    } catch (e) {
      c.header('connection', 'close');
      throw e;
    }
    return;
  }
  const body = c.req.raw.body;
  if (!body) return;
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      take(value);
    }
  } catch (e) {
    c.header('connection', 'close');
    reader.cancel().catch(() => undefined);
    throw e;
  }
}

export type BodyKind = 'json' | 'csv';

/** json (also with no Content-Type) or csv (`text/csv`); anything else is a 415. */
export function bodyKind(c: Context, csvAllowed: boolean): BodyKind {
  const ct = (c.req.header('content-type') ?? '').toLowerCase().split(';')[0]!.trim();
  if (ct === '' || ct === 'application/json') return 'json';
  if (csvAllowed && (ct === 'text/csv' || ct === 'application/csv')) return 'csv';
  throw new AppError('UNSUPPORTED_MEDIA_TYPE', csvAllowed ? 'Content-Type must be application/json or text/csv' : 'Content-Type must be application/json');
}

/** A JSON body holding at most `maxEntries` entries, parsed; 400 when it is not JSON. */
export async function readJsonEntriesBody(c: Context, maxEntries: number, maxBytes = LIST_BODY_MAX_BYTES): Promise<unknown> {
  const counter = new JsonEntryCounter(maxEntries);
  const chunks: Uint8Array[] = [];
  await stream(c, maxBytes, (b) => {
    counter.push(b);
    chunks.push(b);
  });
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new AppError('INVALID_REQUEST', 'Malformed JSON body');
  }
  // The scan measured the depth already (a walk of 100,000 parsed entries costs more than the
  // parse); only a body past the bound is walked, for the 400 that names its field.
  return counter.maxDepth > MAX_BODY_DEPTH ? checkBodyDepth(value) : value;
}

/** A CSV body's entries, validated (cloud/lists/entries-csv.ts). */
export async function readCsvEntriesBody(c: Context, maxEntries: number, maxBytes = LIST_BODY_MAX_BYTES): Promise<ListEntry[]> {
  const csv = new CsvEntriesImport(maxEntries);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const decode = (b?: Uint8Array) => {
    try {
      return b ? decoder.decode(b, { stream: true }) : decoder.decode();
    } catch {
      const message = 'the CSV file must be UTF-8 text (save it as "CSV UTF-8")';
      throw new AppError('VALIDATION_ERROR', `Invalid CSV: ${message}; nothing was stored`, { errors: [{ field: '(body)', message }] });
    }
  };
  await stream(c, maxBytes, (b) => csv.push(decode(b)));
  csv.push(decode());
  return csv.finish();
}
