/**
 * Scores a live run: which labelled photos of the played video became an event at the cloud,
 * how long after the photo appeared, and what else arrived. Pure: photos with the times they
 * were on screen, events with the times they arrived, and nothing else.
 *
 * - exact: an event whose plate (normalised) equals photo i's label arrived between the
 *   photo's first frame and the start of the next photo + `slackMs` (a track closes only after
 *   its plate has left the picture, so a good read arrives while the next photo is shown);
 * - decision latency: arrival of that first matching event − the photo's first frame;
 * - duplicates: further events with the label within the same window;
 * - extras: events that match no label in whose window they arrived (misreads, partial reads,
 *   unlabelled plates in the photos), each with the photo on screen when it arrived and, when
 *   the edge said when it captured the frame, the photo on screen at capture.
 */
import { normalizePlate } from '../../../shared/plate/index.js';
import { percentiles, type Percentiles } from '../evaluate.js';

/** One labelled photo of the video, with when it was on screen (epoch ms). */
export interface PhotoSlot {
  /** Short name, e.g. `us/car12.jpg`. */
  file: string;
  region?: string;
  /** The label, normalised. */
  plate: string;
  /** First frame of this photo. */
  shownAtMs: number;
  /** First frame of the next photo (or of the black after the last). */
  nextAtMs: number;
}

/** One event as it reached the evaluation's client. */
export interface Arrival {
  eventId: string;
  plate: string;
  /** When this client received it (stream), or the cloud stored it (only seen by the final GET /events). */
  arrivedAtMs: number;
  /** The edge's capture time of the event's frame (metadata.captured_at_ms), when given. */
  capturedAtMs?: number | null;
  confidence?: number | null;
  via: 'stream' | 'rest';
}

export interface ScoreOptions {
  /** How long after the next photo appears an event still counts for this one. */
  slackMs: number;
  /** Stream time 0 (epoch ms); times in the report are seconds from it. */
  originMs: number;
}

export interface LiveRegionScore {
  images: number;
  exact_n: number;
  exact: number;
  extras: number;
  duplicates: number;
  latency_ms: Percentiles | null;
}

export interface LivePhotoResult {
  file: string;
  region: string | null;
  expected: string;
  /** Seconds from stream time 0 to the photo's first frame. */
  shown_at_s: number;
  read: boolean;
  latency_ms: number | null;
  duplicates: number;
  /** Plates of the extra events captured while this photo was on screen (what the edge read instead). */
  other_reads: string[];
}

export interface ExtraEvent {
  plate: string;
  event_id: string;
  /** Seconds from stream time 0. */
  arrived_at_s: number;
  captured_at_s: number | null;
  confidence: number | null;
  /** The photo on screen when the event arrived ('lead-in' / 'trailer' for the black before and after). */
  on_screen_at_arrival: string;
  /** The photo on screen when the edge captured its frame, when known. */
  on_screen_at_capture: string | null;
  via: 'stream' | 'rest';
}

export interface LiveScore extends LiveRegionScore {
  per_region: Record<string, LiveRegionScore>;
  photos: LivePhotoResult[];
  extra_events: ExtraEvent[];
  /** Events counted as the same photo's label again. */
  duplicate_events: { plate: string; event_id: string; file: string; arrived_at_s: number }[];
}

const share = (k: number, n: number) => (n === 0 ? 0 : Math.round((k / n) * 10000) / 10000);
const seconds = (ms: number, origin: number) => Math.round((ms - origin) / 100) / 10;

/** The photo on screen at `ms`: its index, or 'lead-in' / 'trailer'. */
function onScreen(photos: PhotoSlot[], ms: number): number | 'lead-in' | 'trailer' {
  if (photos.length === 0 || ms < photos[0].shownAtMs) return 'lead-in';
  for (let i = 0; i < photos.length; i++) if (ms >= photos[i].shownAtMs && ms < photos[i].nextAtMs) return i;
  return 'trailer';
}

export function scoreLive(photos: PhotoSlot[], arrivals: Arrival[], o: ScoreOptions): LiveScore {
  const name = (x: number | 'lead-in' | 'trailer') => (typeof x === 'number' ? photos[x].file : x);
  const hits = photos.map(() => ({ latency: null as number | null, duplicates: 0 }));
  const extras: { a: Arrival; capturedOn: number | 'lead-in' | 'trailer' | null; arrivedOn: number | 'lead-in' | 'trailer' }[] = [];
  const duplicateEvents: LiveScore['duplicate_events'] = [];
  for (const a of [...arrivals].sort((x, y) => x.arrivedAtMs - y.arrivedAtMs)) {
    const plate = normalizePlate(a.plate);
    const windows = photos
      .map((p, i) => ({ p, i }))
      .filter(({ p }) => p.plate === plate && a.arrivedAtMs >= p.shownAtMs && a.arrivedAtMs <= p.nextAtMs + o.slackMs);
    const open = windows.find(({ i }) => hits[i].latency === null);
    if (open) {
      hits[open.i].latency = a.arrivedAtMs - open.p.shownAtMs;
    } else if (windows.length) {
      const { p, i } = windows[0];
      hits[i].duplicates++;
      duplicateEvents.push({ plate, event_id: a.eventId, file: p.file, arrived_at_s: seconds(a.arrivedAtMs, o.originMs) });
    } else {
      const capturedOn = typeof a.capturedAtMs === 'number' ? onScreen(photos, a.capturedAtMs) : null;
      extras.push({ a, capturedOn, arrivedOn: onScreen(photos, a.arrivedAtMs) });
    }
  }

  const results: LivePhotoResult[] = photos.map((p, i) => ({
    file: p.file,
    region: p.region ?? null,
    expected: p.plate,
    shown_at_s: seconds(p.shownAtMs, o.originMs),
    read: hits[i].latency !== null,
    latency_ms: hits[i].latency,
    duplicates: hits[i].duplicates,
    other_reads: extras.filter((x) => (x.capturedOn ?? x.arrivedOn) === i).map((x) => normalizePlate(x.a.plate)),
  }));

  const tally = (idx: number[], extraCount: number): LiveRegionScore => {
    const lat = idx.map((i) => hits[i].latency).filter((x): x is number => x !== null);
    return {
      images: idx.length,
      exact_n: lat.length,
      exact: share(lat.length, idx.length),
      extras: extraCount,
      duplicates: idx.reduce((s, i) => s + hits[i].duplicates, 0),
      latency_ms: lat.length ? percentiles(lat) : null,
    };
  };
  // An extra belongs to the region of the photo it was read from: on screen at capture, else at arrival.
  const extraRegion = (x: (typeof extras)[number]) => {
    const at = x.capturedOn ?? x.arrivedOn;
    return typeof at === 'number' ? (photos[at].region ?? 'other') : null;
  };
  const regionNames = [...new Set(photos.map((p) => p.region ?? 'other'))];
  const perRegion = Object.fromEntries(
    regionNames.map((r) => [
      r,
      tally(
        photos.flatMap((p, i) => ((p.region ?? 'other') === r ? [i] : [])),
        extras.filter((x) => extraRegion(x) === r).length,
      ),
    ]),
  );
  const all = tally(photos.map((_, i) => i), extras.length);
  return {
    ...all,
    per_region: perRegion,
    photos: results,
    extra_events: extras.map(({ a, capturedOn, arrivedOn }) => ({
      plate: normalizePlate(a.plate),
      event_id: a.eventId,
      arrived_at_s: seconds(a.arrivedAtMs, o.originMs),
      captured_at_s: typeof a.capturedAtMs === 'number' ? seconds(a.capturedAtMs, o.originMs) : null,
      confidence: a.confidence ?? null,
      on_screen_at_arrival: name(arrivedOn),
      on_screen_at_capture: capturedOn === null ? null : name(capturedOn),
      via: a.via,
    })),
    duplicate_events: duplicateEvents,
  };
}
