/**
 * Plate formats per region. A format is a pattern over L (letter), D (digit) and A (either);
 * spaces and dashes in a pattern are display only. Consensus uses formats to settle
 * look-alike characters where the format fixes the class of a position, and to prefer
 * reads that fit some format of the camera's regions.
 */
import { AppError } from '../errors.js';
import { isDigit, isLetter } from './normalize.js';

export type CharClass = 'L' | 'D' | 'A';

export interface PlateFormat {
  /** e.g. 'br-mercosur'. */
  name: string;
  /** e.g. 'LLL-DLDD'. */
  pattern: string;
}

export interface Region {
  id: string;
  description: string;
  formats: PlateFormat[];
  /** Whether a read that fits none of the formats is still plausible (vanity plates, mixed schemes). */
  openFormats: boolean;
  /**
   * Characters the region's plates print with one glyph, and how the region writes them
   * (e.g. US plates: letter O and digit 0 look the same, records write 0).
   */
  sameGlyph?: Readonly<Record<string, string>>;
}

const f = (name: string, pattern: string): PlateFormat => ({ name, pattern });

/**
 * Built-in regions. `us` and `eu` list common schemes only: states and countries issue many
 * others, so a read fitting none of them is still accepted (`openFormats`).
 */
export const REGIONS: Readonly<Record<string, Region>> = {
  us: {
    id: 'us',
    description: 'United States: common passenger schemes; vanity and other state formats stay open',
    formats: [
      f('us-3l4d', 'LLL-DDDD'),
      f('us-1d3l3d', 'DLLL-DDD'),
      f('us-3l3d', 'LLL-DDD'),
      f('us-3d3l', 'DDD-LLL'),
      f('us-2l5d', 'LL-DDDDD'),
    ],
    openFormats: true,
    // Most states print O and 0 with one glyph (no engine can tell them apart) and their
    // records, like the OpenALPR US labels, write 0.
    sameGlyph: { O: '0' },
  },
  eu: {
    id: 'eu',
    description: 'European Union: common national schemes; others stay open',
    formats: [
      f('lt', 'LLL-DDD'),
      f('fr', 'LL-DDD-LL'),
      f('it', 'LL-DDD-LL'),
      f('es', 'DDDD-LLL'),
      f('pl-7', 'LL-DDDDD'),
      f('nl-sidecode', 'DD-LLL-D'),
    ],
    openFormats: true,
  },
  br: {
    id: 'br',
    description: 'Brazil: old grey plates (LLL-DDDD) and Mercosur (LLL-DLDD)',
    formats: [f('br-old', 'LLL-DDDD'), f('br-mercosur', 'LLL-DLDD')],
    openFormats: false,
  },
  lt: {
    id: 'lt',
    description: 'Lithuania: LLL-DDD',
    formats: [f('lt', 'LLL-DDD')],
    openFormats: false,
  },
};

/** The class of each position of a format (separators removed). */
export function formatClasses(format: PlateFormat): CharClass[] {
  return [...format.pattern].filter((c) => c === 'L' || c === 'D' || c === 'A') as CharClass[];
}

const PATTERN = /^[LDA](?:[LDA \-]*[LDA])?$/;

/** Checks a region given in configuration: an id and formats of L, D, A, spaces and dashes. */
export function validateRegion(r: Region): Region {
  if (!/^[a-z0-9][a-z0-9-]{0,31}$/.test(r.id)) throw new AppError('CONFIG_INVALID', `plate region id '${r.id}' must be 1-32 of a-z 0-9 -`);
  if (r.formats.length === 0) throw new AppError('CONFIG_INVALID', `plate region '${r.id}' needs at least one format`);
  for (const f of r.formats) {
    if (!PATTERN.test(f.pattern) || formatClasses(f).length > 12) {
      throw new AppError('CONFIG_INVALID', `plate format '${f.name}' of region '${r.id}': pattern '${f.pattern}' must be L (letter), D (digit), A (either), spaces and dashes, at most 12 characters`);
    }
  }
  return r;
}

/**
 * Resolves region ids against the built-in regions and `custom` ones (configured; they may
 * also replace a built-in one); an unknown id is a configuration error.
 */
export function regionsById(ids: readonly string[], custom: readonly Region[] = []): Region[] {
  const known: Record<string, Region> = { ...REGIONS, ...Object.fromEntries(custom.map((r) => [r.id, validateRegion(r)])) };
  return ids.map((id) => {
    const r = known[id.toLowerCase()];
    if (!r) throw new AppError('CONFIG_INVALID', `unknown plate region '${id}' (known: ${Object.keys(known).join(', ')})`);
    return r;
  });
}

/** True when `plate` (normalised) fits `format` exactly. */
export function fitsFormat(plate: string, format: PlateFormat): boolean {
  const cls = formatClasses(format);
  if (cls.length !== plate.length) return false;
  return cls.every((c, i) => c === 'A' || (c === 'L' ? isLetter(plate[i]) : isDigit(plate[i])));
}

/** The formats of `regions` that `plate` fits. */
export function matchingFormats(plate: string, regions: readonly Region[]): PlateFormat[] {
  return regions.flatMap((r) => r.formats.filter((fm) => fitsFormat(plate, fm)));
}

/** Applies the regions' same-glyph rules when every region agrees on them (`O` → `0` for `us`). */
export function foldSameGlyph(plate: string, regions: readonly Region[]): string {
  if (regions.length === 0) return plate;
  let out = '';
  for (const ch of plate) {
    const to = regions[0].sameGlyph?.[ch];
    out += to !== undefined && regions.every((r) => r.sameGlyph?.[ch] === to) ? to : ch;
  }
  return out;
}

/** Lays a normalised plate out as its format displays it (`ABC1234` + `LLL-DDDD` → `ABC-1234`). */
export function formatForDisplay(plate: string, format: PlateFormat): string {
  let i = 0;
  let out = '';
  for (const c of format.pattern) out += c === 'L' || c === 'D' || c === 'A' ? (plate[i++] ?? '') : c;
  return out;
}
