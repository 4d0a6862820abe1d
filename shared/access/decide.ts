/**
 * What the gate does about one read, from the entries it matched (ListIndex `lookup`).
 * Pure: the caller fills the decision's `direction` and `latency_ms`.
 *
 * Guarantees:
 * - Deny beats allow beats watch, whatever the distances: a look-alike deny match keeps the
 *   gate shut even when an exact allow match exists.
 * - Within the deciding type the closest entry decides: exact first, then lower distance
 *   (then the lookup's order: list order, entry order).
 * - Only an allow match opens, and only where the caller says the place can open
 *   (`canOpen`: a barrier that opens for this read); a watch match never opens anything.
 * - `alert` is true whenever a watch list matched, also with an allow or a deny, and when an
 *   allow entry's RFID second factor failed.
 * - RFID second factor: an allow entry with `rfid` set counts only when that tag is among the
 *   tags read in the pass (`opts.rfid`). When every allow match lacks its tag nothing opens:
 *   `action: "none"`, `alert: true`, and the reason says the tag was missing or which tags were
 *   read instead (the entry's own tag is never written into the reason).
 */
import { normalizePlate } from '../plate/normalize.js';
import type { Decision } from '../schemas/lists.js';
import type { AccessMatch } from './list-index.js';

/** The decision as the matcher can make it; the edge adds `direction` and `latency_ms`. */
export type MatchDecision = Omit<Decision, 'latency_ms' | 'direction'>;

export interface DecideOptions {
  /** Whether an allow match may open here (a barrier acts for this camera and direction). */
  canOpen: boolean;
  /** RFID tags seen in the pass's time window (the read's `rfid`). */
  rfid?: readonly string[];
}

const REASON_MAX = 256;

const entryName = (m: AccessMatch): string => m.entry.label ?? normalizePlate(m.entry.plate);
/** ` (entry Alice; matched AB123 at distance 0.5)`: the label when there is one, the entry's plate when not exact. */
function detail(m: AccessMatch): string {
  const parts: string[] = [];
  if (m.entry.label) parts.push(`entry ${m.entry.label}`);
  if (m.distance > 0) parts.push(`matched ${normalizePlate(m.entry.plate)} at distance ${m.distance}`);
  return parts.length ? ` (${parts.join('; ')})` : '';
}
const clip = (s: string): string => (s.length <= REASON_MAX ? s : `${s.slice(0, REASON_MAX - 1)}…`);

/** The best match of each type: the lowest distance, the lookup's order among equals. */
function bestOf(matches: readonly AccessMatch[], type: AccessMatch['list']['type'], ok: (m: AccessMatch) => boolean = () => true): AccessMatch | undefined {
  let best: AccessMatch | undefined;
  for (const m of matches) if (m.list.type === type && ok(m) && (!best || m.distance < best.distance)) best = m;
  return best;
}

function fromMatch(m: AccessMatch, action: Decision['action'], alert: boolean, reason: string): MatchDecision {
  return {
    action,
    list: { id: m.list.id, name: m.list.name, type: m.list.type },
    entry_label: m.entry.label ?? null,
    matched_plate: normalizePlate(m.entry.plate),
    distance: m.distance,
    alert,
    reason: clip(reason),
  };
}

/** Decides one read from its matches (see the module's guarantees). */
export function decide(matches: readonly AccessMatch[], opts: DecideOptions): MatchDecision {
  const watch = bestOf(matches, 'watch');
  const watchNote = watch ? `; on watch list ${watch.list.name}` : '';
  const alert = watch !== undefined;

  const deny = bestOf(matches, 'deny');
  if (deny) return fromMatch(deny, 'deny', alert, `denied by list ${deny.list.name}${detail(deny)}${watchNote}`);

  const tags = opts.rfid ?? [];
  const allow = bestOf(matches, 'allow', (m) => !m.entry.rfid || tags.includes(m.entry.rfid));
  if (allow) {
    const base = `allowed by list ${allow.list.name}${detail(allow)}`;
    return fromMatch(allow, opts.canOpen ? 'open' : 'none', alert, `${base}${opts.canOpen ? '' : ', but nothing opens here'}${watchNote}`);
  }
  const refused = bestOf(matches, 'allow');
  if (refused) {
    const why = tags.length === 0 ? `RFID tag missing for entry ${entryName(refused)}` : `RFID tag${tags.length > 1 ? 's' : ''} ${tags.join(', ')} ${tags.length > 1 ? 'do' : 'does'} not match entry ${entryName(refused)}`;
    return fromMatch(refused, 'none', true, `${why}${watchNote}`);
  }

  if (watch) return fromMatch(watch, 'alert', true, `on watch list ${watch.list.name}${detail(watch)}`);
  return { action: 'none', list: null, entry_label: null, matched_plate: null, distance: null, alert: false, reason: 'no list matched' };
}
