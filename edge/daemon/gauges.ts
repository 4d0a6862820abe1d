/**
 * The daemon's scrape-time gauges (edge/daemon/metrics.ts): cameras, outbox, save queue, fleet
 * (config problems, clock skew). Computed from the daemon's state at each scrape.
 */
import type { Metrics } from './metrics.js';
import type { DaemonView } from './health.js';

export function registerGauges(m: Metrics, d: DaemonView, saveQueueDepth: () => number): void {

  m.gauge('anpr_outbox_save_pending', 'Confirmed reads waiting in memory for a successful outbox save', () => [{ labels: {}, value: saveQueueDepth() }]);
  const cams = () => d.cameraRuns().map((r) => ({ id: r.cfg.id, s: r.capture.status() }));
  m.gauge('anpr_camera_frames_total', 'Frames decoded per camera (counter semantics)', () => cams().map((c) => ({ labels: { camera: c.id }, value: c.s.frames })));
  m.gauge('anpr_camera_frames_dropped_total', 'Frames dropped because inference was busy', () => cams().map((c) => ({ labels: { camera: c.id }, value: c.s.dropped })));
  m.gauge('anpr_camera_fps', 'Decoded frames per second (5 s window)', () => cams().map((c) => ({ labels: { camera: c.id }, value: c.s.fps })));
  m.gauge('anpr_camera_decode_lag_ms', 'Age of the latest frame when inference took it, ms', () => cams().map((c) => ({ labels: { camera: c.id }, value: c.s.decodeLagMs })));
  m.gauge('anpr_camera_restarts_total', 'ffmpeg restarts per camera', () => cams().map((c) => ({ labels: { camera: c.id }, value: c.s.restarts })));
  m.gauge('anpr_camera_up', '1 when frames are flowing', () => cams().map((c) => ({ labels: { camera: c.id }, value: c.s.state === 'running' ? 1 : 0 })));
  m.gauge('anpr_outbox_depth', 'Events not yet delivered, per exporter', () => {
    if (!d.outbox?.db.open) return [];
    return Object.entries(d.outbox!.depth()).map(([ex, s]) => ({ labels: { exporter: ex }, value: s.pending }));
  });
  m.gauge('anpr_outbox_dead_letters', 'Events an exporter rejected permanently', () => {
    if (!d.outbox?.db.open) return [];
    return Object.entries(d.outbox!.depth()).map(([ex, s]) => ({ labels: { exporter: ex }, value: s.dead }));
  });
  m.gauge('anpr_outbox_image_bytes', 'Bytes of event images on disk', () => [{ labels: {}, value: d.outbox!.imageBytesOnDisk }]);
  m.gauge('anpr_edge_config_problems', 'Config items from the cloud refused (dropped=item) or run without some settings (dropped=settings), by kind', () => {
    const n = new Map<string, { labels: Record<string, string>; value: number }>();
    for (const p of d.sync?.problems ?? []) {
      const k = `${p.kind}/${p.dropped}`;
      n.set(k, { labels: { kind: p.kind, dropped: p.dropped }, value: (n.get(k)?.value ?? 0) + 1 });
    }
    return [{ labels: {}, value: d.sync?.problems.length ?? 0 }, ...n.values()];
  });
  m.gauge('anpr_edge_clock_skew', '1 while the cloud refuses heartbeats for this clock (400 CLOCK_SKEW: fix NTP)', () => [{ labels: {}, value: d.heartbeat?.clockSkew ? 1 : 0 }]);
  m.gauge('anpr_process_resident_bytes', 'Resident memory of the edge process', () => [{ labels: {}, value: process.memoryUsage().rss }]);
}
