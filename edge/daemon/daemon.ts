/**
 * The edge daemon: cameras in, events out, nothing lost.
 *
 *   CameraCapture (ffmpeg, latest frame) ─▶ Recognizer.forCamera().push ─▶ Decider (zones, lists)
 *     ─▶ event body + JPEGs ─▶ Outbox.add (durable) ─▶ DeliveryWorker per exporter ─▶ cloud/MQTT/webhook
 *
 * Each camera runs its own loop: a camera that stalls, dies or sends garbage is restarted by its
 * supervisor and never holds up the others. The outbox is the only state that matters; the
 * process can be killed at any moment (see edge/outbox/outbox.ts for the guarantees).
 */
import type { Logger } from '../../shared/log.js';
import { redactUrl, silentLogger } from '../../shared/log.js';
import { CameraCapture } from '../capture/camera-capture.js';
import type { EdgeCamera, EdgeConfig } from '../config/schema.js';
import { CloudConfigSync } from '../config/cloud-sync.js';
import { Decider, type BarrierRequest } from '../decide/index.js';
import { barrierHook } from '../decide/barrier.js';
import { DeliveryWorker } from '../exporters/dispatcher.js';
import { CloudRestExporter } from '../exporters/rest.js';
import { MqttExporter } from '../exporters/mqtt.js';
import { WebhookExporter } from '../exporters/webhook.js';
import type { Exporter } from '../exporters/types.js';
import { Outbox } from '../outbox/outbox.js';
import type { ConfirmedRead, Recognizer } from '../recognize/types.js';
import { buildEventBody, encodeImages } from './event-builder.js';
import { Metrics } from './metrics.js';
import { startOpsHttp, type OpsHttp } from './ops-http.js';
import { notifyReady, notifyStopping, startWatchdog } from './systemd-notify.js';

export interface EdgeDaemonOptions {
  config: EdgeConfig;
  /** The recognition pipeline (the CLI passes `createRecognizer(...)`; tests may inject one). */
  recognizer: Recognizer;
  logger?: Logger;
  /**
   * Called for every barrier decision (open/deny); errors are logged, never block the event.
   * Default: POST to the configured `barrier`/`relay` sensors that have a `config.url`.
   */
  onBarrier?: (req: BarrierRequest) => void | Promise<void>;
  /** Take config from the cloud's config API (default: when `cloud.sync_config`). */
  cloudSync?: boolean;
  /** Start the local ops HTTP (default true). */
  http?: boolean;
  /** ffmpeg binary (default `ffmpeg`). */
  ffmpegPath?: string;
}

interface CameraRun {
  cfg: EdgeCamera;
  key: string;
  capture: CameraCapture;
  loop: Promise<void>;
}

export class EdgeDaemon {
  readonly metrics = new Metrics();
  outbox!: Outbox;
  config: EdgeConfig;
  private readonly log: Logger;
  private readonly decider = new Decider();
  private cameras = new Map<string, CameraRun>();
  private workers = new Map<string, { key: string; worker: DeliveryWorker }>();
  private sync: CloudConfigSync | null = null;
  private ops: OpsHttp | null = null;
  private stopWatchdog: () => void = () => {};
  private stopping = false;
  private applying: Promise<void> = Promise.resolve();
  readonly startedAt = Date.now();
  eventsCommitted = 0;

  private readonly onBarrier: (req: BarrierRequest) => void | Promise<void>;

  constructor(private readonly o: EdgeDaemonOptions) {
    this.config = o.config;
    this.onBarrier = o.onBarrier ?? barrierHook(() => this.config.sensors);
    this.log = (o.logger ?? silentLogger).child({ component: 'edge' });
  }

  /** Opens the outbox, starts exporters and cameras and the ops HTTP; resolves when running. */
  async start(): Promise<void> {
    let cfg = this.o.config;
    if (cfg.cloud?.sync_config && this.o.cloudSync !== false) {
      this.sync = new CloudConfigSync({ base: cfg, logger: this.log });
      cfg = await this.sync.initial();
      this.sync.on('change', (next: EdgeConfig) => {
        this.log.info('config changed in the cloud; applying');
        void this.applyConfig(next);
      });
      this.sync.start();
    }
    this.config = cfg;
    this.outbox = new Outbox({ dataDir: cfg.data_dir, exporters: this.exporterNames(cfg), imageBudgetBytes: cfg.outbox.image_budget_mb * 1024 * 1024 });
    this.registerGauges();
    await this.applyConfig(cfg);
    if (this.o.http !== false) {
      this.ops = await startOpsHttp(this, cfg.http.host, cfg.http.port);
      this.log.info({ url: this.ops.url }, 'ops HTTP listening');
    }
    notifyReady(`${this.cameras.size} cameras`);
    this.stopWatchdog = startWatchdog(() => this.outbox.db.open);
    this.log.info({ cameras: [...this.cameras.keys()], exporters: [...this.workers.keys()] }, 'edge running');
  }

  get httpUrl(): string | null {
    return this.ops?.url ?? null;
  }

  /** Applies a new config without a restart: only what changed is stopped or started. */
  applyConfig(next: EdgeConfig): Promise<void> {
    this.applying = this.applying.then(() => this.doApply(next)).catch((e) => this.log.error({ err: e }, 'applying config failed'));
    return this.applying;
  }

  private async doApply(next: EdgeConfig): Promise<void> {
    if (this.stopping) return;
    this.config = next;
    this.decider.update(next.zones);
    // Exporters first, so events from new cameras are queued for the right set.
    const wanted = this.exporters(next);
    this.outbox.setExporters([...wanted.keys()]);
    for (const [name, w] of this.workers) {
      const want = wanted.get(name);
      if (!want || want.key !== w.key) {
        await w.worker.stop();
        await w.worker.exporter.stop();
        this.workers.delete(name);
      }
    }
    for (const [name, want] of wanted) {
      if (this.workers.has(name)) continue;
      await want.exporter.start();
      const worker = new DeliveryWorker(this.outbox, want.exporter, {
        backoff: { initialMs: next.delivery.initial_backoff_ms, maxMs: next.delivery.max_backoff_ms },
        logger: this.log,
        metrics: this.metrics,
      });
      worker.start();
      this.workers.set(name, { key: want.key, worker });
    }
    const cams = new Map(next.cameras.filter((c) => c.enabled).map((c) => [c.id, c]));
    for (const [id, run] of this.cameras) {
      const want = cams.get(id);
      if (!want || JSON.stringify(want) !== run.key) await this.stopCamera(id);
    }
    for (const [id, cam] of cams) if (!this.cameras.has(id)) this.startCamera(cam);
  }

  private exporterNames(cfg: EdgeConfig): string[] {
    return [...(cfg.cloud?.deliver_events ? ['cloud'] : []), ...cfg.exporters.filter((e) => e.enabled).map((e) => e.name)];
  }

  private exporters(cfg: EdgeConfig): Map<string, { key: string; exporter: Exporter }> {
    const m = new Map<string, { key: string; exporter: Exporter }>();
    if (cfg.cloud?.deliver_events) {
      const c = cfg.cloud;
      m.set('cloud', { key: JSON.stringify([c.url, c.api_key, c.timeout_ms]), exporter: new CloudRestExporter({ url: c.url, apiKey: c.api_key, timeoutMs: c.timeout_ms }) });
    }
    for (const e of cfg.exporters) {
      if (!e.enabled) continue;
      const key = JSON.stringify(e);
      if (e.type === 'mqtt') {
        const mc = e.config as { topic?: string; username?: string; password?: string; client_id?: string; status_topic?: string; include_images?: boolean };
        m.set(e.name, {
          key,
          exporter: new MqttExporter({
            name: e.name,
            url: e.url,
            edgeId: cfg.edge_id,
            topic: mc.topic,
            statusTopic: mc.status_topic,
            username: mc.username ?? e.auth.username,
            password: mc.password ?? e.auth.password,
            clientId: mc.client_id,
            includeImages: mc.include_images,
            logger: this.log,
          }),
        });
      } else {
        const auth =
          e.auth.type === 'bearer' || e.auth.type === 'api_key'
            ? { type: 'bearer' as const, token: e.auth.token ?? '' }
            : e.auth.type === 'basic'
              ? { type: 'basic' as const, username: e.auth.username ?? '', password: e.auth.password ?? '' }
              : undefined;
        const headers = { ...e.headers, ...(e.auth.type === 'api_key' ? { 'x-api-key': e.auth.token ?? '' } : {}) };
        m.set(e.name, {
          key,
          exporter: new WebhookExporter({ name: e.name, url: e.url, headers, auth: e.auth.type === 'api_key' ? undefined : auth, includeImages: (e.config as { include_images?: boolean }).include_images }),
        });
      }
    }
    return m;
  }

  private startCamera(cam: EdgeCamera): void {
    const capture = new CameraCapture({
      cameraId: cam.id,
      url: cam.rtsp_url,
      width: cam.resolution.width,
      height: cam.resolution.height,
      fps: cam.fps,
      hwaccel: cam.hwaccel,
      inputArgs: cam.ffmpeg_input_args,
      heartbeatMs: cam.heartbeat_s * 1000,
      ffmpegPath: this.o.ffmpegPath,
      logger: this.log,
    });
    capture.start();
    const run: CameraRun = { cfg: cam, key: JSON.stringify(cam), capture, loop: Promise.resolve() };
    run.loop = this.cameraLoop(run);
    this.cameras.set(cam.id, run);
    this.log.info({ camera: cam.id, url: redactUrl(cam.rtsp_url) }, 'camera started');
  }

  private async stopCamera(id: string): Promise<void> {
    const run = this.cameras.get(id);
    if (!run) return;
    this.cameras.delete(id);
    await run.capture.stop();
    await run.loop;
    this.log.info({ camera: id }, 'camera stopped');
  }

  private async cameraLoop(run: CameraRun): Promise<void> {
    const cam = run.cfg;
    const rec = this.o.recognizer.forCamera(cam.id, { regions: cam.regions ?? this.config.regions });
    const labels = { camera: cam.id };
    for (;;) {
      const frame = await run.capture.nextFrame();
      if (!frame) break;
      const t0 = performance.now();
      let reads: ConfirmedRead[] = [];
      try {
        reads = await rec.push(frame);
      } catch (e) {
        this.metrics.inc('anpr_recognition_errors_total', 'Frames the recognizer failed on', labels);
        this.log.error({ camera: cam.id, err: e }, 'recognition failed on a frame');
        continue;
      }
      this.metrics.observe('anpr_stage_latency_ms', 'Latency of a pipeline stage, ms', { ...labels, stage: 'recognize' }, performance.now() - t0);
      this.metrics.inc('anpr_frames_analysed_total', 'Frames the recognizer processed', labels);
      for (const [i, r] of reads.entries()) await this.commitRead(cam, r, i);
    }
    try {
      for (const [i, r] of rec.flush().entries()) await this.commitRead(cam, r, i);
    } catch (e) {
      this.log.error({ camera: cam.id, err: e }, 'flushing open tracks failed');
    }
  }

  /** Decide, encode, store durably, then wake the exporters. */
  private async commitRead(cam: EdgeCamera, read: ConfirmedRead, index: number): Promise<void> {
    const decision = this.decider.decide(cam.id, read.plateText, read.plateBox);
    if (!decision) {
      this.metrics.inc('anpr_reads_outside_zones_total', 'Confirmed reads dropped: plate outside every zone', { camera: cam.id });
      return;
    }
    try {
      const t0 = performance.now();
      const images = await encodeImages(read, this.config.outbox.jpeg_quality);
      const t1 = performance.now();
      const body = buildEventBody(this.config.edge_id, cam.zone_id, read, decision, index);
      if (this.stopping && !this.outbox.db.open) return;
      this.outbox.add(body, images);
      const t2 = performance.now();
      this.eventsCommitted++;
      this.metrics.observe('anpr_stage_latency_ms', 'Latency of a pipeline stage, ms', { camera: cam.id, stage: 'encode' }, t1 - t0);
      this.metrics.observe('anpr_stage_latency_ms', 'Latency of a pipeline stage, ms', { camera: cam.id, stage: 'commit' }, t2 - t1);
      this.metrics.inc('anpr_events_total', 'Events committed to the outbox', { camera: cam.id });
      this.log.info({ camera: cam.id, eventId: body.event_id, plate: body.plate_text, confidence: body.confidence }, 'event');
      for (const w of this.workers.values()) w.worker.wake();
    } catch (e) {
      this.metrics.inc('anpr_event_errors_total', 'Confirmed reads that could not be stored', { camera: cam.id });
      this.log.error({ camera: cam.id, err: e }, 'could not store event');
      return;
    }
    if (decision.action !== 'none') {
      // Off the camera loop: a slow barrier must not delay the next frame.
      const req = { ...decision, cameraId: cam.id, plateText: read.plateText };
      void Promise.resolve()
        .then(() => this.onBarrier(req))
        .then(
          () => this.metrics.inc('anpr_barrier_actions_total', 'Barrier decisions sent', { camera: cam.id, action: decision.action }),
          (e) => {
            this.metrics.inc('anpr_barrier_failures_total', 'Barrier decisions that could not be sent', { camera: cam.id });
            this.log.error({ err: e }, 'barrier hook failed');
          },
        );
    }
  }

  private registerGauges(): void {
    const m = this.metrics;
    const cams = () => [...this.cameras.values()].map((r) => ({ id: r.cfg.id, s: r.capture.status() }));
    m.gauge('anpr_camera_frames_total', 'Frames decoded per camera (counter semantics)', () => cams().map((c) => ({ labels: { camera: c.id }, value: c.s.frames })));
    m.gauge('anpr_camera_frames_dropped_total', 'Frames dropped because inference was busy', () => cams().map((c) => ({ labels: { camera: c.id }, value: c.s.dropped })));
    m.gauge('anpr_camera_fps', 'Decoded frames per second (5 s window)', () => cams().map((c) => ({ labels: { camera: c.id }, value: c.s.fps })));
    m.gauge('anpr_camera_decode_lag_ms', 'Age of the latest frame when inference took it, ms', () => cams().map((c) => ({ labels: { camera: c.id }, value: c.s.decodeLagMs })));
    m.gauge('anpr_camera_restarts_total', 'ffmpeg restarts per camera', () => cams().map((c) => ({ labels: { camera: c.id }, value: c.s.restarts })));
    m.gauge('anpr_camera_up', '1 when frames are flowing', () => cams().map((c) => ({ labels: { camera: c.id }, value: c.s.state === 'running' ? 1 : 0 })));
    m.gauge('anpr_outbox_depth', 'Events not yet delivered, per exporter', () => {
      if (!this.outbox.db.open) return [];
      return Object.entries(this.outbox.depth()).map(([ex, s]) => ({ labels: { exporter: ex }, value: s.pending }));
    });
    m.gauge('anpr_outbox_dead_letters', 'Events an exporter rejected permanently', () => {
      if (!this.outbox.db.open) return [];
      return Object.entries(this.outbox.depth()).map(([ex, s]) => ({ labels: { exporter: ex }, value: s.dead }));
    });
    m.gauge('anpr_outbox_image_bytes', 'Bytes of event images on disk', () => [{ labels: {}, value: this.outbox.imageBytesOnDisk }]);
    m.gauge('anpr_process_resident_bytes', 'Resident memory of the edge process', () => [{ labels: {}, value: process.memoryUsage().rss }]);
  }

  /** Camera, exporter and outbox state for /status and `anpr doctor`. */
  status() {
    return {
      edge_id: this.config.edge_id,
      uptime_s: Math.round((Date.now() - this.startedAt) / 1000),
      config_source: this.sync?.source ?? 'file',
      config_sync_error: this.sync?.lastError ?? null,
      cameras: [...this.cameras.values()].map((r) => ({ ...r.capture.status(), url: redactUrl(r.cfg.rtsp_url) })),
      exporters: [...this.workers.values()].map(({ worker }) => ({ name: worker.exporter.name, delivered: worker.delivered, failures: worker.failures, last_error: worker.lastError })),
      outbox: this.outbox.db.open ? { events_committed_since_start: this.eventsCommitted, image_bytes: this.outbox.imageBytesOnDisk, by_exporter: this.outbox.depth() } : null,
    };
  }

  health(): { ok: boolean; status: 'ok' | 'degraded' | 'down'; problems: string[] } {
    const problems: string[] = [];
    if (!this.outbox?.db.open) return { ok: false, status: 'down', problems: ['outbox closed'] };
    for (const r of this.cameras.values()) {
      const s = r.capture.status();
      if (s.state !== 'running') problems.push(`camera ${r.cfg.id}: ${s.state}${s.lastError ? ` (${s.lastError})` : ''}`);
    }
    return { ok: true, status: problems.length ? 'degraded' : 'ok', problems };
  }

  /** Outbox maintenance through the one writer (used by `anpr outbox retry|replay`). */
  retry(exporter?: string): number {
    const n = this.outbox.retry(exporter);
    for (const w of this.workers.values()) w.worker.wake();
    return n;
  }

  replay(exporter: string, sinceMs = 0): number {
    const n = this.outbox.replay(exporter, sinceMs);
    for (const w of this.workers.values()) w.worker.wake();
    return n;
  }

  /** Stops cameras (their open tracks are flushed into the outbox), exporters, then the outbox. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    notifyStopping();
    this.stopWatchdog();
    this.sync?.stop();
    await this.applying;
    await Promise.all([...this.cameras.keys()].map((id) => this.stopCamera(id)));
    await Promise.all([...this.workers.values()].map(async ({ worker }) => {
      await worker.stop();
      await worker.exporter.stop();
    }));
    this.workers.clear();
    await this.ops?.close();
    this.outbox?.close();
    this.log.info('edge stopped');
  }
}
