/** The live evaluation as text: stills and live side by side, then what the live run got wrong. */
import type { Percentiles } from '../evaluate.js';
import type { LiveEvalReport } from './run.js';

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const lat = (p: Percentiles | null) => (p ? `${Math.round(p.p50)} / ${Math.round(p.p95)} ms` : '-');
const exact = (x: { exact_n: number; images: number; exact: number }) => `${x.exact_n}/${x.images} ${pct(x.exact)}`;

export function formatLiveReport(r: LiveEvalReport): string[] {
  const { stills, live } = r.summary;
  const rows: [string, string, string][] = [
    ['', 'stills', 'live'],
    ['exact', exact(stills), exact(live)],
    ...Object.keys({ ...stills.per_region, ...live.per_region }).map((g): [string, string, string] => [
      `  ${g}`,
      stills.per_region[g] ? exact(stills.per_region[g]) : '-',
      live.per_region[g] ? exact(live.per_region[g]) : '-',
    ]),
    ['false reads / extra events', String(stills.false_reads), String(live.false_reads)],
    ...Object.keys({ ...stills.per_region, ...live.per_region }).map((g): [string, string, string] => [
      `  ${g}`,
      String(stills.per_region[g]?.false_reads ?? '-'),
      String(live.per_region[g]?.false_reads ?? '-'),
    ]),
    ['duplicates', '-', String(live.duplicates ?? '-')],
    ['latency p50 / p95', lat(stills.latency_ms), lat(live.latency_ms)],
  ];
  const w0 = Math.max(...rows.map((x) => x[0].length));
  const w1 = Math.max(...rows.map((x) => x[1].length));
  const out = [
    `live evaluation: ${r.images} photos of ${r.dataset} (regions ${r.regions.join(', ')}), ${r.hold_s} s each, camera at ${r.camera_fps} fps`,
    '',
    ...rows.map(([a, b, c]) => `  ${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`),
    '',
    '  latency: stills = processing one photo; live = the photo\'s first frame on the RTSP stream → its event at the cloud\'s WebSocket.',
    `  live: ${r.live.events} events (${r.live.events_via_rest} only via GET /events), stream started ${r.live.stream_started_at}` +
      (r.live.stream_restarts ? `; the stream restarted ${r.live.stream_restarts}× (times after that are off)` : ''),
  ];
  const misses = r.live.photos.filter((p) => !p.read);
  if (misses.length) {
    out.push('', '  live misses:');
    for (const m of misses) {
      const still = r.stills.failures.find((f) => f.file === m.file);
      out.push(
        `    ${m.file}: expected ${m.expected}, live read ${m.other_reads.length ? m.other_reads.join(', ') : '(nothing)'}; stills ${still ? `read ${still.got || '(nothing)'}` : 'right'}`,
      );
    }
  }
  if (r.live.extra_events.length) {
    out.push('', '  live extra events (photo on screen at capture / at arrival):');
    for (const e of r.live.extra_events) {
      out.push(`    ${e.plate.padEnd(10)} ${e.on_screen_at_capture ?? '?'} / ${e.on_screen_at_arrival}  at ${e.arrived_at_s} s${e.confidence !== null ? `  conf ${e.confidence.toFixed(2)}` : ''}`);
    }
  }
  if (r.live.duplicate_events.length) {
    out.push('', '  live duplicates:');
    for (const d of r.live.duplicate_events) out.push(`    ${d.plate.padEnd(10)} ${d.file}  at ${d.arrived_at_s} s`);
  }
  if (r.work_dir) out.push('', `  work dir kept: ${r.work_dir} (edge.log, cloud and edge data)`);
  return out;
}
