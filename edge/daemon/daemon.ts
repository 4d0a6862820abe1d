/**
 * The edge daemon: cameras in, events out, nothing lost.
 *
 *   CameraCapture (ffmpeg, latest frame) ─▶ Recognizer.forCamera().push ─▶ Gate (zones, lists, barriers)
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
import { Gate, type Pass } from '../access/gate.js';
import type { RelayOutcome } from '../access/sensor-set.js';
import { DeliveryWorker } from '../exporters/dispatcher.js';
import { Outbox } from '../outbox/outbox.js';
import { SaveRetryQueue } from '../outbox/save-queue.js';
import type { RecognizerOptions } from '../recognize/index.js';
import type { CameraRecognitionSettings, CameraRecognizer, ConfirmedRead, Recognizer } from '../contracts.js';
import type { HeartbeatSender } from '../cloud/heartbeat.js';
import { EX_CONFIG, EdgeIdInUseError, edgeIdInUseMessage, fleetHeartbeat } from './fleet.js';
import { ensureInstanceId } from '../cloud/instance-id.js';
import { captureKey, recognitionSettings } from './camera-settings.js';
import { buildExporters, exporterNames } from './exporter-set.js';
import { cameraStates, configState, daemonHealth, heartbeatBody, type Health } from './health.js';
import { buildEventBody, encodeImages } from './event-builder.js';
import { describeModels, modelSetKey, recognizerOptions, type CloudModel } from './models.js';
import { Metrics } from './metrics.js';
import { registerGauges } from './gauges.js';
import { startOpsHttp, type OpsHttp } from './ops-http.js';
import { ensureOpsToken } from './ops-token.js';
import { notifyReady, notifyStopping, startWatchdog } from '../../shared/systemd-notify.js';

export interface EdgeDaemonOptions {
  config: EdgeConfig;
  /** The recognition pipeline (the CLI passes `createRecognizer(...)`; tests may inject one). */
  recognizer: Recognizer;
  /**
   * Builds a recognizer when the model set changes (the cloud's `/config/models`, or the
   * config's `models` section on applyConfig). Default: `createRecognizer` from edge/recognize.
   * The recognizer passed as `recognizer` is taken to be built from the config's `models`
   * section with no cloud models.
   */
  loadRecognizer?: (opts: RecognizerOptions) => Promise<Recognizer>;
  /** Bounds of the in-memory queue of reads whose outbox save failed (defaults 1000 reads, 256 MiB). */
  saveQueue?: { maxItems?: number; maxBytes?: number };
  logger?: Logger;
  /** Take config from the cloud's config API (default: when `cloud.sync_config`). */
  cloudSync?: boolean;
  /** Start the local ops HTTP (default true). */
  http?: boolean;
  /** ffmpeg binary (default `ffmpeg`). */
  ffmpegPath?: string;
  /** Report health to the cloud every `cloud.heartbeat_s` (default: when a cloud is configured). */
  heartbeat?: boolean;
  /**
   * The daemon cannot go on (the cloud says another box runs this edge id): called once after
   * it has stopped, with the exit code (78, EX_CONFIG) and why. The process should exit with it.
   */
  onFatal?: (code: number, message: string) => void;
}

export { EX_CONFIG, EdgeIdInUseError, edgeIdInUseMessage } from './fleet.js';

interface CameraRun {
  cfg: EdgeCamera;
  /** What the capture is built from (a change restarts the camera); see captureKey. */
  key: string;
  /** The recognition settings in force (a change reconfigures the recognizer only). */
  recKey: string;
  capture: CameraCapture;
  loop: Promise<void>;
  /** The recognizer this camera's frames go to, and its per-camera state. */
  recognizer: Recognizer;
  rec: CameraRecognizer;
  /** Serialises a frame's push + commits with a recognizer swap of this camera. */
  lock: Promise<void>;
  ended: boolean;
  /** When the loop took the frame it is working on; null while it waits for one (see stuckCameras). */
  busySince: number | null;
}

interface SaveCtx {
  cameraId: string;
  plateText: string;
  t1: number;
}

export class EdgeDaemon {
  readonly metrics = new Metrics();
  outbox!: Outbox;
  config: EdgeConfig;
  private readonly log: Logger;
  /** Decides each read (zones, access lists, barriers, sensors): set up by start(). */
  gate!: Gate;
  private cameras = new Map<string, CameraRun>();
  /** Cameras whose start threw (reported in /status and /healthz), by id. */
  readonly failedCameras = new Map<string, { key: string; url: string; error: string }>();
  private workers = new Map<string, { key: string; worker: DeliveryWorker }>();
  sync: CloudConfigSync | null = null;
  heartbeat: HeartbeatSender | null = null;
  /** This installation's id (X-Edge-Instance), when a cloud is configured. */
  instanceId: string | null = null;
  /** The config version in force (the cloud's, when synced) and when it was applied. */
  configApplied: { version: string | null; at: string | null } = { version: null, at: null };
  /** Set when the daemon stopped itself for good (another box runs this edge id). */
  fatal: string | null = null;
  private started = false;
  private ops: OpsHttp | null = null;
  private stopWatchdog: () => void = () => {};
  /** Whether the last watchdog check passed (a change is logged once). */
  private petting = true;
  private stopping = false;
  private applying: Promise<void> = Promise.resolve();
  readonly startedAt = Date.now();
  eventsCommitted = 0;
  /** Reads waiting for a successful outbox save (disk full, EIO…), retried with backoff. */
  saveQueue!: SaveRetryQueue<SaveCtx>;
  /** The recognizer new frames go to; replaced atomically per camera when the model set changes. */
  recognizer: Recognizer;
  /** True once the injected recognizer has been replaced (and disposed) by the daemon. */
  injectedReplaced = false;
  private runs = new Set<CameraRun>();
  private modelsKey = '';
  private wantedModelsKey = '';
  private reloading: Promise<void> = Promise.resolve();
  readonly models = {
    generation: 0,
    loaded: [] as string[],
    loaded_at: null as string | null,
    reloading: false,
    last_error: null as string | null,
  };

  constructor(private readonly o: EdgeDaemonOptions) {
    this.config = o.config;
    this.recognizer = o.recognizer;
    this.modelsKey = this.wantedModelsKey = modelSetKey(o.config, []);
    this.log = (o.logger ?? silentLogger).child({ component: 'edge' });
  }

  /** Opens the outbox, starts exporters and cameras and the ops HTTP; resolves when running. */
  async start(): Promise<void> {
    let cfg = this.o.config;
    if (cfg.cloud) this.instanceId = ensureInstanceId(cfg.data_dir);
    if (cfg.cloud?.sync_config && this.o.cloudSync !== false) {
      this.sync = new CloudConfigSync({ base: cfg, logger: this.log, instanceId: this.instanceId ?? undefined });
      cfg = await this.sync.initial();
      this.sync.on('version', (version: string) => (this.configApplied = { version, at: new Date().toISOString() }));
      this.sync.on('change', (next: EdgeConfig) => {
        this.log.info('config changed in the cloud; applying');
        void this.applyConfig(next);
      });
      this.sync.start();
    }
    this.config = cfg;
    this.gate = new Gate({
      config: cfg,
      metrics: this.metrics,
      logger: this.log,
      instanceId: this.instanceId ?? undefined,
      onRelayFailure: (pass, read, passId, outcome) => this.relayFailed(pass, read, passId, outcome),
    });
    // The lists kept on disk decide until the cloud's are read; then every change of the bundle's.
    this.gate.start();
    if (this.sync) {
      this.sync.on('lists', (lists) => void this.gate.lists.reconcile(lists));
      if (this.sync.lists) void this.gate.lists.reconcile(this.sync.lists);
    }
    this.outbox = new Outbox({ dataDir: cfg.data_dir, exporters: exporterNames(cfg), imageBudgetBytes: cfg.outbox.image_budget_mb * 1024 * 1024 });
    this.saveQueue = this.makeSaveQueue(cfg);
    registerGauges(this.metrics, this, () => this.saveQueue.depth);
    // Before any camera starts: a box whose edge id another box runs must not capture at all.
    await this.firstHeartbeat(cfg);
    await this.applyConfig(cfg);
    this.started = true;
    if (this.o.http !== false) {
      this.ops = await startOpsHttp(this, { host: cfg.http.host, port: cfg.http.port, token: ensureOpsToken(cfg) });
      this.log.info({ url: this.ops.url }, 'ops HTTP listening');
    }
    notifyReady(`${this.cameras.size} cameras`);
    this.stopWatchdog = startWatchdog(() => this.watchdogOk());
    this.log.info({ cameras: [...this.cameras.keys()], exporters: [...this.workers.keys()] }, 'edge running');
  }

  /**
   * The first heartbeat, before the cameras start (at most 5 s: an unreachable cloud never holds
   * the edge up). 409 EDGE_ID_IN_USE stops here with EdgeIdInUseError; anything else runs on.
   */
  private async firstHeartbeat(cfg: EdgeConfig): Promise<void> {
    const cloud = cfg.cloud;
    if (!cloud || this.o.heartbeat === false || !this.instanceId) return;
    this.heartbeat = fleetHeartbeat(cloud, cfg.edge_id, this.instanceId, {
      collect: () => heartbeatBody(this),
      onConflict: (message) => this.edgeIdInUse(message),
      // The cloud serves a newer config: take it now, not at the next poll.
      onConfigVersion: (version) => this.sync?.syncIfBehind(version),
      metrics: this.metrics,
      logger: this.log,
    });
    const first = await this.heartbeat.beat(Math.min(cloud.timeout_ms, 5000));
    if (first === 'conflict') {
      const message = edgeIdInUseMessage(cfg.edge_id, this.heartbeat.conflict ?? '');
      this.fatal = message;
      this.log.fatal({ edge: cfg.edge_id }, message);
      await this.stop();
      throw new EdgeIdInUseError(message);
    }
    this.heartbeat.start();
  }

  /** 409 EDGE_ID_IN_USE after the start: another box took this edge id; stop capturing and exit. */
  private edgeIdInUse(cloudMessage: string): void {
    if (!this.started || this.fatal) return; // at the start: firstHeartbeat handles it
    const message = edgeIdInUseMessage(this.config.edge_id, cloudMessage);
    this.fatal = message;
    this.log.fatal({ edge: this.config.edge_id }, `${message}; the outbox keeps its events on disk`);
    void this.stop().then(
      () => this.o.onFatal?.(EX_CONFIG, message),
      () => this.o.onFatal?.(EX_CONFIG, message),
    );
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
    this.gate.update(next);
    this.maybeReloadModels(next);
    // Exporters first, so events from new cameras are queued for the right set.
    const wanted = buildExporters(next, this.log, this.instanceId ?? undefined);
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
      if (!want || captureKey(want) !== run.key) await this.stopCamera(id);
      else if (JSON.stringify(recognitionSettings(want, next.regions)) !== run.recKey) await this.reconfigureCamera(run, want);
    }
    for (const [id, f] of this.failedCameras) {
      const want = cams.get(id);
      if (!want || captureKey(want) !== f.key) this.failedCameras.delete(id);
    }
    for (const [id, cam] of cams) {
      if (this.cameras.has(id) || this.failedCameras.has(id)) continue;
      // One camera that cannot be started never stops the others from starting.
      try {
        this.startCamera(cam);
      } catch (e) {
        const error = redactUrl((e as Error).message).slice(0, 300);
        this.failedCameras.set(id, { key: captureKey(cam), url: redactUrl(cam.rtsp_url), error });
        this.log.error({ camera: id, error }, 'camera could not be started; not retried until its configuration changes');
      }
    }
    this.configApplied = { version: this.sync?.version ?? null, at: new Date().toISOString() };
  }

  /**
   * This camera's recognizer state on `recognizer` with the camera's settings. Settings the
   * recognizer refuses (the config schemas should have caught them) are logged and the camera
   * runs with the defaults rather than not at all.
   */
  private cameraRecognizer(recognizer: Recognizer, cam: EdgeCamera): { rec: CameraRecognizer; settings: CameraRecognitionSettings; recKey: string } {
    const settings = recognitionSettings(cam, this.config.regions);
    const recKey = JSON.stringify(settings);
    try {
      return { rec: recognizer.forCamera(cam.id, settings), settings, recKey };
    } catch (e) {
      this.log.error({ camera: cam.id, err: e, settings }, "the recognizer refused this camera's recognition settings; running it with the defaults");
      return { rec: recognizer.forCamera(cam.id, {}), settings, recKey };
    }
  }

  /** New recognition settings for a running camera: applied between two frames, the capture keeps running. */
  private async reconfigureCamera(run: CameraRun, cam: EdgeCamera): Promise<void> {
    await this.withLock(run, async () => {
      if (run.ended) return;
      const { rec, settings, recKey } = this.cameraRecognizer(run.recognizer, cam);
      // A recognizer that hands out new per-camera state: the old state's open tracks are not lost.
      if (rec !== run.rec) await this.flushCamera(run);
      run.cfg = cam;
      run.rec = rec;
      run.recKey = recKey;
      this.log.info({ camera: cam.id, settings }, 'camera recognition settings changed; recognizer reconfigured');
    });
  }

  private startCamera(cam: EdgeCamera): void {
    const recognizer = this.recognizer;
    const { rec, recKey } = this.cameraRecognizer(recognizer, cam);
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
    const run: CameraRun = { cfg: cam, key: captureKey(cam), recKey, capture, loop: Promise.resolve(), recognizer, rec, lock: Promise.resolve(), ended: false, busySince: null };
    this.runs.add(run);
    run.loop = this.cameraLoop(run).finally(() => this.runs.delete(run));
    this.cameras.set(cam.id, run);
    this.log.info({ camera: cam.id, url: redactUrl(cam.rtsp_url), hwaccel: cam.hwaccel }, 'camera started');
  }

  private async stopCamera(id: string): Promise<void> {
    const run = this.cameras.get(id);
    if (!run) return;
    this.cameras.delete(id);
    await run.capture.stop();
    await run.loop;
    this.log.info({ camera: id }, 'camera stopped');
  }

  /** Runs `fn` after everything queued on this camera's lock (frames, swaps). */
  private withLock<T>(run: CameraRun, fn: () => Promise<T>): Promise<T> {
    const p = run.lock.then(fn);
    run.lock = p.then(() => undefined, () => undefined);
    return p;
  }

  private async cameraLoop(run: CameraRun): Promise<void> {
    const cam = run.cfg;
    const labels = { camera: cam.id };
    for (;;) {
      const frame = await run.capture.nextFrame();
      if (!frame) break;
      run.busySince = Date.now();
      await this.withLock(run, async () => {
        const t0 = performance.now();
        let reads: ConfirmedRead[] = [];
        try {
          reads = await run.rec.push(frame);
        } catch (e) {
          this.metrics.inc('anpr_recognition_errors_total', 'Frames the recognizer failed on', labels);
          this.log.error({ camera: cam.id, err: e }, 'recognition failed on a frame');
          return;
        }
        this.metrics.observe('anpr_stage_latency_ms', 'Latency of a pipeline stage, ms', { ...labels, stage: 'recognize' }, performance.now() - t0);
        this.metrics.inc('anpr_frames_analysed_total', 'Frames the recognizer processed', labels);
        for (const [i, r] of reads.entries()) await this.commitRead(cam, r, i);
      }).finally(() => (run.busySince = null));
    }
    await this.withLock(run, async () => {
      run.ended = true;
      await this.flushCamera(run);
    });
  }

  /** Ends this camera's open tracks on its current recognizer and commits what they confirm. */
  private async flushCamera(run: CameraRun): Promise<void> {
    try {
      for (const [i, r] of run.rec.flush().entries()) await this.commitRead(run.cfg, r, i);
    } catch (e) {
      this.log.error({ camera: run.cfg.id, err: e }, 'flushing open tracks failed');
    }
  }

  /**
   * Builds a recognizer for the new model set in the background when it differs from the one in
   * force (or being built). The old one keeps serving until the new one is ready.
   */
  private maybeReloadModels(cfg: EdgeConfig): void {
    const cloud: CloudModel[] = this.sync?.models ?? [];
    const key = modelSetKey(cfg, cloud);
    if (key === this.wantedModelsKey) return;
    this.wantedModelsKey = key;
    this.reloading = this.reloading.then(() => this.reloadModels(cfg, cloud, key)).catch((e) => this.log.error({ err: e }, 'swapping the recognizer failed'));
  }

  private async reloadModels(cfg: EdgeConfig, cloud: CloudModel[], key: string): Promise<void> {
    if (this.stopping || key !== this.wantedModelsKey || key === this.modelsKey) return; // superseded
    const names = describeModels(cloud);
    this.models.reloading = true;
    this.log.info({ models: names }, 'model set changed; loading a new recognizer in the background');
    let next: Recognizer;
    try {
      const load = this.o.loadRecognizer ?? (async (opts: RecognizerOptions) => (await import('../recognize/index.js')).createRecognizer(opts));
      next = await load(recognizerOptions(cfg, cloud, this.o.logger));
    } catch (e) {
      this.models.reloading = false;
      this.models.last_error = (e as Error).message;
      this.metrics.inc('anpr_model_reload_failures_total', 'Model set changes whose recognizer failed to load (the old one kept serving)');
      this.log.error({ err: e, models: names }, 'loading the new model set failed; the recognizer in force keeps serving');
      // Not retried until the model set changes again (a retry of the same set would fail the same way).
      return;
    } finally {
      this.models.reloading = false;
    }
    if (this.stopping || key !== this.wantedModelsKey) {
      await next.dispose().catch((e) => this.log.warn({ err: e }, 'disposing a superseded recognizer failed'));
      return;
    }
    await this.swapRecognizer(next);
    this.modelsKey = key;
    this.models.generation++;
    this.models.loaded = names;
    this.models.loaded_at = new Date().toISOString();
    this.models.last_error = null;
    this.metrics.inc('anpr_model_reloads_total', 'Recognizers swapped in after a model set change');
    this.log.info({ models: names, generation: this.models.generation }, 'new recognizer in service');
  }

  /**
   * New frames go to `next` from now on. Each camera moves over between two frames (its open
   * tracks on the old recognizer are flushed into the outbox first); when every camera has moved,
   * the old recognizer is disposed.
   */
  private async swapRecognizer(next: Recognizer): Promise<void> {
    const old = this.recognizer;
    this.recognizer = next; // cameras started from now on use it
    await Promise.all(
      [...this.runs].map((run) =>
        this.withLock(run, async () => {
          if (run.ended || run.recognizer === next) return;
          await this.flushCamera(run);
          run.recognizer = next;
          ({ rec: run.rec, recKey: run.recKey } = this.cameraRecognizer(next, run.cfg));
        }),
      ),
    );
    // A camera that ended before it moved flushed on `old` under its lock, which we waited for.
    if (old === this.o.recognizer) this.injectedReplaced = true;
    try {
      await old.dispose();
    } catch (e) {
      this.log.warn({ err: e }, 'disposing the old recognizer failed');
    }
  }

  /**
   * Decide, encode, store durably, command the barrier, then wake the exporters. The barrier
   * command leaves in the same tick as the save: no pass opens the gate without its event, and a
   * save that fails is retried in memory while the gate acts (the gate does not wait for a disk).
   */
  private async commitRead(cam: EdgeCamera, read: ConfirmedRead, index: number): Promise<void> {
    const pass = this.gate.decide(read);
    if (!pass) {
      this.metrics.inc('anpr_reads_outside_zones_total', 'Confirmed reads dropped: plate outside every zone', { camera: cam.id });
      return;
    }
    try {
      const t0 = performance.now();
      const images = await encodeImages(read, this.config.outbox.jpeg_quality);
      const t1 = performance.now();
      if (this.stopping && !this.outbox.db.open) return;
      this.metrics.observe('anpr_stage_latency_ms', 'Latency of a pipeline stage, ms', { camera: cam.id, stage: 'encode' }, t1 - t0);
      this.gate.stamp(pass, read);
      const body = buildEventBody(this.config.edge_id, cam.zone_id, read, pass, index);
      // Saved now, or (storage fault) kept in memory and retried until saved: see makeSaveQueue.
      this.saveQueue.submit(body, images, { cameraId: cam.id, plateText: read.plateText, t1 });
      this.gate.command(pass, read, body.event_id);
    } catch (e) {
      this.metrics.inc('anpr_event_errors_total', 'Confirmed reads that could not be stored', { camera: cam.id });
      this.log.error({ camera: cam.id, err: e }, 'could not store event');
      return;
    }
  }

  /** A barrier that did not open for an allowed pass: an alert event of its own, with the cause. */
  private relayFailed(pass: Pass, read: ConfirmedRead, passId: string, outcome: RelayOutcome): void {
    if (this.stopping) return;
    const alert: Pass = {
      ...pass,
      decision: { ...pass.decision, action: 'alert', alert: true, reason: `barrier did not open: ${outcome.error ?? 'no answer'}`.slice(0, 256) },
    };
    const body = { ...buildEventBody(this.config.edge_id, null, read, alert, 0), event_id: `${passId}.relay`.slice(0, 128) };
    void encodeImages(read, this.config.outbox.jpeg_quality).then(
      (images) => this.saveQueue.submit(body, images, { cameraId: read.cameraId, plateText: read.plateText, t1: performance.now() }),
      (e) => this.log.error({ camera: read.cameraId, err: e }, 'could not store the barrier alert'),
    );
  }

  private makeSaveQueue(cfg: EdgeConfig): SaveRetryQueue<SaveCtx> {
    return new SaveRetryQueue<SaveCtx>({
      save: (body, images) => this.outbox.add(body, images),
      maxItems: this.o.saveQueue?.maxItems,
      maxBytes: this.o.saveQueue?.maxBytes,
      initialBackoffMs: cfg.delivery.initial_backoff_ms,
      maxBackoffMs: Math.min(cfg.delivery.max_backoff_ms, 10_000),
      onSaved: (item, _seq, retried) => {
        const camera = item.ctx.cameraId;
        if (!retried) this.metrics.observe('anpr_stage_latency_ms', 'Latency of a pipeline stage, ms', { camera, stage: 'commit' }, performance.now() - item.ctx.t1);
        this.eventsCommitted++;
        this.metrics.inc('anpr_events_total', 'Events committed to the outbox', { camera });
        if (retried) this.metrics.inc('anpr_outbox_save_recovered_total', 'Reads saved to the outbox after failed attempts', { camera });
        const b = item.body;
        this.log.info({ camera, eventId: b.event_id, plate: b.plate_text, confidence: b.confidence, ...(retried ? { attempts: item.attempts } : {}) }, 'event');
        for (const w of this.workers.values()) w.worker.wake();
      },
      onFailed: (item, err, depth) => {
        if (item.attempts !== 1) return; // one count and one line per read, not per retry
        const camera = item.ctx.cameraId;
        this.metrics.inc('anpr_event_errors_total', 'Confirmed reads that could not be stored', { camera });
        this.log.error({ camera, eventId: item.body.event_id, err, pending: depth }, 'could not store event; kept in memory and retried');
      },
      onDropped: (item, reason, err) => {
        const camera = item.ctx.cameraId;
        this.metrics.inc('anpr_outbox_save_dropped_total', 'Confirmed reads given up on: save queue full, invalid, or pending at shutdown', { camera, reason });
        this.log.error({ camera, eventId: item.body.event_id, plate: item.body.plate_text, reason, err }, 'confirmed read dropped without being stored');
      },
    });
  }

  /** Camera, exporter and outbox state for /status and `anpr doctor`. */
  status() {
    return {
      edge_id: this.config.edge_id,
      uptime_s: Math.round((Date.now() - this.startedAt) / 1000),
      config_source: this.sync?.source ?? 'file',
      config_sync_error: this.sync?.lastError ?? null,
      config_synced_at: this.sync?.lastSyncAt ?? null,
      config: configState(this),
      access_lists: this.gate ? { lists: this.gate.lists.lists.map((l) => ({ id: l.id, name: l.name, type: l.type, version: l.version, entries: l.entries.length })), error: this.gate.lists.lastError, synced_at: this.gate.lists.lastSyncAt } : null,
      camera_states: cameraStates(this),
      instance_id: this.instanceId,
      heartbeat: this.heartbeat ? { last_ok_at: this.heartbeat.lastOkAt, last_error: this.heartbeat.lastError, sent: this.heartbeat.sent, failed: this.heartbeat.failed, clock_skew: this.heartbeat.clockSkew } : null,
      cameras: [
        ...[...this.cameras.values()].map((r) => ({ ...r.capture.status(), url: redactUrl(r.cfg.rtsp_url) })),
        ...[...this.failedCameras].map(([id, f]) => ({ cameraId: id, state: 'failed' as const, frames: 0, dropped: 0, restarts: 0, fps: 0, lastFrameAt: null, decodeLagMs: 0, lastError: f.error, pid: null, url: f.url })),
      ],
      exporters: [...this.workers.values()].map(({ worker }) => ({ name: worker.exporter.name, delivered: worker.delivered, failures: worker.failures, last_error: worker.lastError })),
      outbox: this.outbox.db.open ? { events_committed_since_start: this.eventsCommitted, image_bytes: this.outbox.imageBytesOnDisk, by_exporter: this.outbox.depth() } : null,
      save_queue: { pending: this.saveQueue.depth, bytes: this.saveQueue.bytes, dropped: this.saveQueue.dropped, last_error: this.saveQueue.lastError },
      models: { ...this.models },
    };
  }

  /**
   * Cameras whose loop has held one frame for longer than `watchdog.stall_s`: wedged (a recognizer,
   * a lock or a commit that never finishes). A camera waiting for frames (its stream is down) is
   * not stuck: its supervisor restarts ffmpeg, and a daemon restart would not help it.
   */
  stuckCameras(now = Date.now()): Array<{ camera: string; stuckMs: number }> {
    const limit = this.config.watchdog.stall_s * 1000;
    return [...this.runs].filter((r) => r.busySince !== null && now - r.busySince > limit).map((r) => ({ camera: r.cfg.id, stuckMs: now - r.busySince! }));
  }

  /** Whether the systemd watchdog may be petted: the outbox is usable and no camera loop is wedged. */
  private watchdogOk(): boolean {
    const stuck = this.outbox.db.open ? this.stuckCameras() : [];
    const ok = this.outbox.db.open && stuck.length === 0;
    if (!ok && this.petting) this.log.error({ stuck, outboxOpen: this.outbox.db.open }, 'daemon wedged: no longer petting the systemd watchdog (systemd restarts it)');
    if (ok && !this.petting) this.log.info('daemon live again: petting the systemd watchdog');
    this.petting = ok;
    return ok;
  }

  health(): Health {
    return daemonHealth(this);
  }

  /** The cameras being captured (for the health readers). */
  cameraRuns(): Array<{ cfg: EdgeCamera; capture: CameraCapture }> {
    return [...this.cameras.values()];
  }

  /** Names of the exporters delivering now: the only ones retry/replay may name. */
  exportersInForce(): string[] {
    return [...this.workers.keys()];
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
    await this.heartbeat?.stop();
    await this.gate?.close();
    await this.applying;
    await this.reloading;
    await Promise.all([...this.cameras.keys()].map((id) => this.stopCamera(id)));
    // Reads still waiting for a save get a last try; what still fails is lost (logged, counted).
    const lost = this.saveQueue?.close() ?? 0;
    if (lost) this.log.error({ lost }, 'confirmed reads not stored at shutdown (outbox save kept failing)');
    await Promise.all([...this.workers.values()].map(async ({ worker }) => {
      await worker.stop();
      await worker.exporter.stop();
    }));
    this.workers.clear();
    await this.ops?.close();
    this.outbox?.close();
    // A recognizer the daemon built is the daemon's to dispose; the injected one is the caller's.
    if (this.recognizer !== this.o.recognizer) await this.recognizer.dispose().catch((e) => this.log.warn({ err: e }, 'disposing the recognizer failed'));
    this.log.info('edge stopped');
  }
}
