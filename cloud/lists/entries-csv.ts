/**
 * List entries as CSV: the import (`POST|PUT /config/lists/{id}/entries` with `text/csv`) and
 * the export (`GET /config/lists/{id}/entries.csv`).
 *
 * The format:
 * - UTF-8 (a byte-order mark is ignored), RFC 4180: cells separated by `,`, a cell with `,`, `"`
 *   or a line break quoted with `"` (`""` inside), lines ended by CRLF or LF.
 * - The first line is the header: `plate,label,valid_from,valid_until,schedule,rfid` (what the
 *   export writes). Columns may come in any order and all but `plate` may be left out; an unknown
 *   or repeated column is refused. Blank lines are skipped.
 * - An empty cell is null (no label, no bound, no tag); `schedule` is the text of
 *   cloud/lists/schedule-text.ts (`mon-fri 07:00-19:00; sat 08:00-12:00`), empty = at any time.
 * - Formula guard: the export writes a label or tag that starts with `=`, `+`, `-` or `@` (or
 *   with apostrophes and then one of them) behind one more `'`, so a spreadsheet shows it as
 *   text; the import takes exactly that `'` off again. Export → import gives the same entries.
 *
 * Guarantees of the import:
 * - All or nothing: the parser only collects validated entries; the caller stores them in one
 *   transaction, or nothing when any line is wrong.
 * - A wrong line is a 400 VALIDATION_ERROR whose errors name the line (1 = the header) and the
 *   column: `field: "lines.7.schedule"`, message `line 7, schedule: …`. Up to MAX_REPORTED
 *   errors are reported, then the import stops reading.
 * - A plate appearing twice (after normalisation: `AB-123` and `ab123` are one plate) is a 400
 *   naming both lines.
 * - More than `maxEntries` entries is a 413 naming the limit, raised at the first line past it:
 *   the rest of the file is never read.
 */
import { AppError, type FieldError } from '../../shared/errors.js';
import { ListEntry, type ListEntryInput } from '../../shared/schemas/lists.js';
import { tooManyEntries } from '../store/lists-store.js';
import { ScheduleTextError, formatSchedule, parseSchedule } from '../../shared/access/schedule-text.js';

export const CSV_HEADER = ['plate', 'label', 'valid_from', 'valid_until', 'schedule', 'rfid'] as const;
type Column = (typeof CSV_HEADER)[number];

/** Errors reported for one bad file, at most. */
export const MAX_REPORTED = 20;

/**
 * An incremental RFC 4180 reader: `push` text as it arrives, `end` at the end; each complete
 * record goes to `onRecord` with the line it starts on.
 */
export class CsvReader {
  private cells: string[] = [];
  private cell = '';
  private quoted = false;
  /** Inside quotes, a `"` seen and not yet known to be `""` or the closing quote. */
  private quoteSeen = false;
  private line = 1;
  private recordLine = 1;
  /** A CR was the last character: an LF right after it belongs to the same line end. */
  private afterCr = false;
  private started = false;

  constructor(private readonly onRecord: (cells: string[], line: number) => void) {}

  push(text: string): void {
    for (let i = 0; i < text.length; i++) {
      const ch = text[i]!;
      if (this.afterCr) {
        this.afterCr = false;
        if (ch === '\n') continue;
      }
      if (this.quoted) {
        if (this.quoteSeen) {
          this.quoteSeen = false;
          if (ch === '"') {
            this.cell += '"';
            continue;
          }
          this.quoted = false; // the closing quote; this character is read as outside quotes
        } else {
          if (ch === '"') this.quoteSeen = true;
          else {
            if (ch === '\n' || ch === '\r') {
              this.line++;
              if (ch === '\r') this.afterCr = true;
            }
            this.cell += ch;
          }
          continue;
        }
      }
      this.started = true;
      if (ch === '"' && this.cell === '') this.quoted = true;
      else if (ch === ',') {
        this.cells.push(this.cell);
        this.cell = '';
      } else if (ch === '\n' || ch === '\r') {
        if (ch === '\r') this.afterCr = true;
        this.emit();
        this.line++;
        this.recordLine = this.line;
      } else this.cell += ch;
    }
  }

  end(): void {
    if (this.quoted && !this.quoteSeen) {
      const message = `line ${this.recordLine}: a quoted cell is never closed`;
      throw new AppError('VALIDATION_ERROR', `Invalid CSV: ${message}; nothing was stored`, { errors: [{ field: `lines.${this.recordLine}`, message }] });
    }
    this.quoted = false;
    this.quoteSeen = false;
    if (this.started) this.emit();
  }

  private emit(): void {
    this.cells.push(this.cell);
    const cells = this.cells;
    this.cells = [];
    this.cell = '';
    this.started = false;
    // A blank line is no record.
    if (cells.length === 1 && cells[0]!.trim() === '') return;
    this.onRecord(cells, this.recordLine);
  }
}

const GUARDED = /^'+[=+\-@]/;
const NEEDS_GUARD = /^'*[=+\-@]/;

/** Import: takes the export's formula guard off (one leading apostrophe before `=+-@`). */
const unguard = (s: string) => (GUARDED.test(s) ? s.slice(1) : s);

/** Export: one cell, quoted when needed, a label or tag that a spreadsheet would run guarded. */
export function csvCell(v: string | null, guard = false): string {
  if (v === null) return '';
  const s = guard && NEEDS_GUARD.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The export's line of one entry (CRLF-terminated). */
export function csvLine(e: ListEntry): string {
  return [csvCell(e.plate), csvCell(e.label, true), csvCell(e.valid_from), csvCell(e.valid_until), csvCell(formatSchedule(e.schedule)), csvCell(e.rfid, true)].join(',') + '\r\n';
}

export const csvHeaderLine = () => CSV_HEADER.join(',') + '\r\n';

/**
 * Reads an import: feed it text with `push`, then `finish()` returns the validated entries (plates
 * unique) or throws the 400 naming every bad line found (up to MAX_REPORTED), or the 413.
 */
export class CsvEntriesImport {
  private readonly reader = new CsvReader((cells, line) => this.record(cells, line));
  private columns: Array<Column> | null = null;
  private readonly entries: ListEntry[] = [];
  private readonly lineOf = new Map<string, number>();
  private readonly errors: FieldError[] = [];

  constructor(private readonly maxEntries: number) {}

  push(text: string): void {
    this.reader.push(text);
  }

  finish(): ListEntry[] {
    this.reader.end();
    if (this.columns === null) this.fail([{ field: 'lines.1', message: `line 1: the file is empty; the first line is the header ${CSV_HEADER.join(',')}` }]);
    if (this.errors.length) this.fail(this.errors);
    return this.entries;
  }

  private fail(errors: FieldError[]): never {
    throw new AppError('VALIDATION_ERROR', `Invalid CSV: ${errors[0]!.message}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}; nothing was stored`, { errors });
  }

  /** `column` null: the line as a whole. */
  private error(line: number, column: string | null, message: string): void {
    this.errors.push(column === null ? { field: `lines.${line}`, message: `line ${line}: ${message}` } : { field: `lines.${line}.${column}`, message: `line ${line}, ${column}: ${message}` });
    if (this.errors.length >= MAX_REPORTED) this.fail(this.errors);
  }

  private header(cells: string[], line: number): void {
    const cols = cells.map((c) => c.trim().toLowerCase());
    const errors: FieldError[] = [];
    cols.forEach((c, i) => {
      if (!(CSV_HEADER as readonly string[]).includes(c)) errors.push({ field: `lines.${line}`, message: `line ${line}: column ${i + 1} '${cells[i]}' is not one of ${CSV_HEADER.join(', ')}` });
      else if (cols.indexOf(c) !== i) errors.push({ field: `lines.${line}`, message: `line ${line}: column '${c}' appears twice` });
    });
    if (!cols.includes('plate')) errors.push({ field: `lines.${line}`, message: `line ${line}: the header needs a plate column (${CSV_HEADER.join(',')})` });
    if (errors.length) this.fail(errors);
    this.columns = cols as Column[];
  }

  private record(cells: string[], line: number): void {
    if (this.columns === null) return this.header(cells, line);
    if (cells.length > this.columns.length) {
      return this.error(line, null, `${cells.length} cells, but the header has ${this.columns.length} columns (quote a cell that holds a comma)`);
    }
    if (this.entries.length + 1 > this.maxEntries) throw tooManyEntries(this.maxEntries);
    const raw: Record<string, unknown> = {};
    let ok = true;
    this.columns.forEach((col, i) => {
      const cell = cells[i] ?? '';
      if (col === 'plate') raw.plate = cell;
      else if (col === 'schedule') {
        try {
          raw.schedule = parseSchedule(cell);
        } catch (e) {
          if (!(e instanceof ScheduleTextError)) throw e;
          ok = false;
          this.error(line, 'schedule', e.message);
        }
      } else if (cell.trim() === '') raw[col] = null;
      else raw[col] = col === 'label' || col === 'rfid' ? unguard(cell) : cell.trim();
    });
    if (!ok) return;
    const r = ListEntry.safeParse(raw as ListEntryInput);
    if (!r.success) {
      for (const issue of r.error.issues) {
        const col = String(issue.path[0] ?? 'plate');
        const rest = issue.path.slice(1);
        // schedule.0.from: say which window, as the text counts them.
        const detail = col === 'schedule' && typeof rest[0] === 'number' ? `window ${rest[0] + 1}${rest.length > 1 ? ` ${rest.slice(1).join('.')}` : ''}: ` : '';
        this.error(line, col, `${detail}${issue.message}`);
      }
      return;
    }
    const first = this.lineOf.get(r.data.plate);
    if (first !== undefined) return this.error(line, 'plate', `${r.data.plate} is already on line ${first} (plates are compared normalised); a plate appears once per list`);
    this.lineOf.set(r.data.plate, line);
    this.entries.push(r.data);
  }
}
