/**
 * The real edge daemon as its own process (`anpr edge --config FILE`), configured as a gate box
 * would be: the cloud's URL and an API key, cameras from the cloud's config API, the plate
 * regions to expect, and the model mirror when there is one. Its log goes to a file in the
 * work dir; its last lines explain a failure.
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EdgeConfigInput } from '../../config/schema.js';
import { stopChild } from '../../demo/stop-child.js';

const anpr = fileURLToPath(new URL('../../../bin/anpr.js', import.meta.url));

export interface EdgeProcess {
  /** Resolves with the exit code (or signal) when the process ends. */
  readonly exited: Promise<string>;
  /** The last lines of its output. */
  tail(): string;
  /** SIGTERM (open tracks are flushed), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export interface EdgeProcessOptions {
  workDir: string;
  cloudUrl: string;
  apiKey: string;
  regions: string[];
  mirror?: string;
  logLevel?: string;
}

/** The evaluation's edge id: its API key is made for this edge (a key speaks for one edge only). */
export const LIVE_EVAL_EDGE_ID = 'live-eval';

export async function startEdgeProcess(o: EdgeProcessOptions): Promise<EdgeProcess> {
  const config: EdgeConfigInput = {
    edge_id: LIVE_EVAL_EDGE_ID,
    data_dir: join(o.workDir, 'edge'),
    cloud: { url: o.cloudUrl, api_key: o.apiKey, sync_config: true },
    models: { mirror: o.mirror ?? null },
    regions: o.regions,
    http: { port: 0 },
    log_level: (o.logLevel ?? 'warn') as EdgeConfigInput['log_level'],
  };
  const file = join(o.workDir, 'edge.json');
  await writeFile(file, JSON.stringify(config, null, 2));
  const log = createWriteStream(join(o.workDir, 'edge.log'));
  const child = spawn(process.execPath, [anpr, 'edge', '--config', file], {
    // As the systemd unit sets it: inference, JPEG encoding and HTTP share libuv's threadpool.
    env: { ...process.env, UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE ?? '16' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let last = '';
  const keep = (c: Buffer) => {
    log.write(c);
    last = (last + c.toString()).slice(-4000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<string>((resolve) => {
    child.once('error', (e) => resolve(`not started: ${e.message}`));
    child.once('close', (code, signal) => resolve(signal ?? String(code)));
  });
  void exited.then(() => log.end());
  return {
    exited,
    tail: () => last.trim().split('\n').slice(-5).join('\n'),
    stop: (graceMs = 15_000) => stopChild(child, graceMs),
  };
}
