/**
 * What the recognizer is built from: the config's `models` section plus the cloud's model list
 * (`GET /config/models`). A change of either builds a new recognizer in the background
 * (see EdgeDaemon.reloadModels); this file only says what "a change" is and how the set maps
 * onto `createRecognizer` options.
 *
 * Mapping of the cloud's models (shared/schemas/config.ts ModelCreate), enabled unless
 * `metadata.enabled === false`:
 * - `ocr`: the engines to run, named by `metadata.engine` or else `name` (fast-plate-ocr,
 *   paddle-ocr, tesseract); none listed = every installed engine. An unknown engine fails the load.
 * - `plate_detector`: a dedicated plate-detector ONNX model instead of the text detector. Trusted
 *   only as far as it is checked: `weights_path` is a file inside the models dir (`models.dir`,
 *   default models/cache/) and `sha256` is required; the file is loaded only when it matches
 *   (else the load fails and the recognizer in force keeps serving).
 * - `detector`, `classifier`: kept in the set (a change still reloads); the vehicle detector is
 *   used whenever installed.
 */
import { AppError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import type { EdgeConfig } from '../config/schema.js';
import type { RecognizerOptions } from '../recognize/index.js';

export type CloudModel = Record<string, unknown>;

const meta = (m: CloudModel) => (m.metadata && typeof m.metadata === 'object' ? (m.metadata as Record<string, unknown>) : {});

/** The part of a cloud model that matters to the edge (ids and timestamps do not). */
function essential(m: CloudModel) {
  const { created_at: _c, updated_at: _u, ...rest } = m;
  return rest;
}

/** Equal keys = the same recognizer. */
export function modelSetKey(cfg: EdgeConfig, cloud: CloudModel[]): string {
  const list = cloud.map(essential).sort((a, b) => String(a.id ?? a.name).localeCompare(String(b.id ?? b.name)));
  return JSON.stringify({ local: cfg.models, cloud: list });
}

/** createRecognizer options for this config and model set (as `anpr edge` builds the first one). */
export function recognizerOptions(cfg: EdgeConfig, cloud: CloudModel[], logger?: Logger): RecognizerOptions {
  const opts: RecognizerOptions = {
    mirror: cfg.models.mirror ?? undefined,
    modelsDir: cfg.models.dir ?? undefined,
    providers: cfg.models.providers,
    regions: cfg.regions,
    logger,
    dedupWindowMs: cfg.recognition.dedup_window_s * 1000,
    minFrames: cfg.recognition.min_frames,
    warmUp: true,
  };
  const on = cloud.filter((m) => meta(m).enabled !== false);
  const engines = on.filter((m) => m.type === 'ocr').map((m) => String(meta(m).engine ?? m.name));
  if (engines.length) opts.engines = [...new Set(engines)];
  const plate = on.find((m) => m.type === 'plate_detector');
  if (plate) {
    const file = plate.weights_path;
    const sha256 = plate.sha256;
    if (typeof file !== 'string' || !file) throw new AppError('CONFIG_INVALID', `plate_detector '${String(plate.name)}': weights_path is required`);
    if (typeof sha256 !== 'string' || !sha256) {
      throw new AppError('CONFIG_INVALID', `plate_detector '${String(plate.name)}': sha256 is required (the edge loads no model it cannot verify)`);
    }
    opts.plateDetectorModel = { file, sha256 };
  }
  return opts;
}

/** A short description for logs and /status. */
export function describeModels(cloud: CloudModel[]): string[] {
  return cloud.map((m) => `${String(m.type)}:${String(m.name)}@${String(m.version ?? '?')}`);
}
