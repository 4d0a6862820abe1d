/**
 * The demo: the whole system on one machine, fed by a synthetic camera.
 *
 *   synthetic clip ─▶ GStreamer RTSP (127.0.0.1) ─▶ edge daemon (ffmpeg, recognizer, outbox)
 *     ─▶ cloud (`anpr cloud`, own process; REST ingest) ─▶ WebSocket ─▶ printed here
 *     └─▶ in-process MQTT broker (aedes)
 *
 * The edge is registered in the cloud as `demo-edge` (its key is that edge's), and its camera and
 * MQTT exporter are the cloud's config items for it: they show on the back office's Config and
 * Edges pages, and the edge takes them from the cloud (cloud sync) as a gate box in the field does.
 *
 * Uses the real recognition pipeline with the shipped models (npm and models/), plus a mirror when given.
 */
import { join, resolve } from 'node:path';
import { mkdirSync } from 'node:fs';
import type { Logger } from '../../shared/log.js';
import { silentLogger } from '../../shared/log.js';
import { parseEdgeConfig } from '../config/load.js';
import { EdgeDaemon } from '../daemon/daemon.js';
import type { Recognizer } from '../contracts.js';
import { startBroker } from './mqtt-broker.js';
import { startRtspServer } from './rtsp-server.js';
import { startCloudProcess } from './cloud-process.js';
import { registerDemoItems, signIn } from './cloud-register.js';
import { demoAdmin } from './demo-admin.js';
import { DEMO_PLATES, ensureDemoClip } from './synthetic-camera.js';

export interface DemoOptions {
  dataDir: string;
  mirror?: string;
  /** Stop after this many seconds (default: until SIGINT/SIGTERM). */
  durationS?: number;
  cloudPort?: number;
  /** Printed lines go here (default console.log). */
  print?: (line: string) => void;
  logger?: Logger;
  /** Tests only: a recognizer to use instead of the real pipeline. */
  recognizer?: Recognizer;
  /** Stop after this many events reached the cloud. */
  maxEvents?: number;
  /** Let the cloud process log at info level. */
  verbose?: boolean;
}

/** The demo's edge id, as registered in its cloud. */
export const DEMO_EDGE_ID = 'demo-edge';
/** The demo camera's id, in the cloud and on the edge. */
export const DEMO_CAMERA_ID = 'gate-1';

export interface DemoEvent {
  plate: string;
  confidence: number | null;
  camera: string | null;
  latencyMs: number | null;
  eventId: string;
  /** The gate's decision (open, deny, alert, none). */
  action: string | null;
}

export interface DemoSummary {
  events: DemoEvent[];
  mqttMessages: number;
  cloudUrl: string;
}

export async function runDemo(o: DemoOptions): Promise<DemoSummary> {
  const print = o.print ?? ((l: string) => console.log(l));
  const log = o.logger ?? silentLogger;
  const dataDir = resolve(o.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  const cleanup = async () => {
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch (e) {
        log.warn({ err: e }, 'demo cleanup step failed');
      }
    }
  };
  try {
    print('demo: rendering the synthetic camera (cached after the first run)…');
    const { loop } = await ensureDemoClip({ dir: join(dataDir, 'clips'), secondsPerVehicle: 7 });
    const rtsp = await startRtspServer({ file: loop, path: '/gate-1' });
    cleanups.push(() => rtsp.close());
    print(`demo: camera streaming at ${rtsp.url}`);

    const cloudDir = join(dataDir, 'cloud');
    // The demo's admin: its password is kept in the demo's data dir (0600) so every run can sign
    // in, set up the demo's camera through the API, and print how to sign in.
    const admin = demoAdmin(dataDir);
    const cloud = await startCloudProcess({ dataDir: cloudDir, port: o.cloudPort, logLevel: o.verbose ? 'info' : 'warn', admin });
    cleanups.push(() => cloud.close());
    // The key registers the edge; the edge also reads its own events on the stream with it.
    const edgeKey = await cloud.createApiKey(DEMO_EDGE_ID);
    print(`demo: cloud at ${cloud.url} (API docs ${cloud.url}/docs)`);
    let token = await signIn(cloud.url, admin.user, admin.password);
    if (!token) {
      // A data dir made by an older demo: its admin has a password the demo never kept.
      await cloud.resetPassword(admin.user, admin.password);
      print(`demo: the demo cloud's ${admin.user} password was reset to the one kept in ${admin.file}`);
      token = await signIn(cloud.url, admin.user, admin.password);
      if (!token) throw new Error(`demo: cannot sign in as ${admin.user} after resetting its password`);
    }
    print(`demo: web app sign-in ${admin.user} / ${admin.password} (kept in ${admin.file})`);

    const broker = await startBroker(0);
    cleanups.push(() => broker.close());
    print(`demo: MQTT broker at ${broker.url} (events on anpr/${DEMO_EDGE_ID}/${DEMO_CAMERA_ID}/events)`);

    // The camera and the exporter are the cloud's, for this edge (the ports change on every run).
    await registerDemoItems(cloud.url, token, {
      cameras: [{ id: DEMO_CAMERA_ID, name: 'Demo gate', rtsp_url: rtsp.url, enabled: true, edge_id: DEMO_EDGE_ID, fps: 4, resolution: { width: 960, height: 540 }, zone_id: null }],
      exporters: [{ id: 'demo-mqtt', name: 'mqtt', type: 'mqtt', url: broker.url, enabled: true, edge_id: DEMO_EDGE_ID }],
      // The gate: residents open it, a banned plate is refused, the rest are only recorded.
      lists: [
        { id: 'demo-residents', name: 'Demo residents', type: 'allow', edge_id: DEMO_EDGE_ID, entries: DEMO_PLATES.slice(0, 3).map((plate, i) => ({ plate, label: `Resident ${i + 1}` })) },
        { id: 'demo-banned', name: 'Demo banned', type: 'deny', edge_id: DEMO_EDGE_ID, entries: DEMO_PLATES.slice(3, 4).map((plate) => ({ plate, label: 'Banned' })) },
      ],
    });
    print(`demo: edge ${DEMO_EDGE_ID} and camera ${DEMO_CAMERA_ID} registered in the cloud (Config and Edges pages)`);

    const config = parseEdgeConfig({
      edge_id: DEMO_EDGE_ID,
      data_dir: join(dataDir, 'edge'),
      cloud: { url: cloud.url, api_key: edgeKey, sync_config: true },
      models: { mirror: o.mirror ?? null },
      recognition: { dedup_window_s: 20, min_frames: 2 },
      delivery: { initial_backoff_ms: 200, max_backoff_ms: 5000 },
      http: { port: 0 },
    });

    let mqttMessages = 0;
    const { connect } = await import('mqtt');
    const sub = connect(broker.url);
    sub.on('connect', () => sub.subscribe(`anpr/${DEMO_EDGE_ID}/+/events`, { qos: 1 }));
    sub.on('message', () => mqttMessages++);
    cleanups.push(() => sub.endAsync());

    let recognizer = o.recognizer;
    if (!recognizer) {
      print(`demo: loading the recognition models${o.mirror ? ` (shipped, and the mirror ${o.mirror})` : ' (shipped with the project)'}…`);
      const { createRecognizer } = await import('../recognize/index.js');
      recognizer = await createRecognizer({
        mirror: o.mirror,
        logger: log,
        dedupWindowMs: config.recognition.dedup_window_s * 1000,
        minFrames: config.recognition.min_frames,
        warmUp: true,
      });
      const r = recognizer;
      cleanups.push(() => r.dispose());
    }
    const edge = new EdgeDaemon({ config, recognizer, logger: log });
    await edge.start();
    cleanups.push(() => edge.stop());
    print(`demo: edge running (ops ${edge.httpUrl}/metrics); waiting for plates — Ctrl-C to stop`);
    print('');
    print('PLATE        CONF   CAMERA   LATENCY  GATE   EVENT');

    const events: DemoEvent[] = [];
    const { WebSocket } = await import('ws');
    const ws = new WebSocket(`${cloud.url.replace(/^http/, 'ws')}/events/stream?api_key=${encodeURIComponent(edgeKey)}`);
    cleanups.push(() => ws.terminate());
    let finish!: () => void;
    const finished = new Promise<void>((r) => (finish = r));
    ws.on('message', (raw) => {
      let msg: { type?: string; data?: Record<string, unknown> };
      try {
        msg = JSON.parse(String(raw));
      } catch {
        return;
      }
      if (msg.type !== 'event' || !msg.data) return;
      const d = msg.data;
      const md = (d.metadata ?? {}) as { captured_at_ms?: number };
      const e: DemoEvent = {
        plate: String(d.plate_text),
        confidence: typeof d.confidence === 'number' ? d.confidence : null,
        camera: (d.camera_id as string) ?? null,
        latencyMs: typeof md.captured_at_ms === 'number' ? Date.now() - md.captured_at_ms : null,
        eventId: String(d.event_id),
        action: (d.decision as { action?: string } | null)?.action ?? null,
      };
      events.push(e);
      print(
        `${e.plate.padEnd(12)} ${e.confidence === null ? '  -  ' : e.confidence.toFixed(2).padStart(5)}  ${String(e.camera).padEnd(8)} ${e.latencyMs === null ? '-' : `${(e.latencyMs / 1000).toFixed(2)} s`.padStart(7)}  ${(e.action && e.action !== 'none' ? e.action.toUpperCase() : '-').padEnd(5)}  ${e.eventId}`,
      );
      if (o.maxEvents && events.length >= o.maxEvents) finish();
    });
    ws.on('error', (e) => print(`demo: WebSocket error: ${e.message}`));

    const onSignal = () => finish();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    cleanups.push(() => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    });
    if (o.durationS) setTimeout(finish, o.durationS * 1000).unref();
    await finished;
    print('');
    print(`demo: ${events.length} events reached the cloud, ${mqttMessages} via MQTT; stopping…`);
    return { events, mqttMessages, cloudUrl: cloud.url };
  } finally {
    await cleanup();
  }
}
