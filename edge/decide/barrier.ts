/**
 * The barrier hook from config: every sensor of type `barrier` or `relay` with `config.url`
 * gets a JSON POST `{camera_id, zone_id, plate_text, action}` when a decision for its camera or
 * zone (null = any) says open or deny. A failing barrier is reported, never retried (a gate
 * opening late is worse than not opening), and never blocks the event.
 */
import { request } from 'undici';
import { redactUrl } from '../../shared/log.js';
import type { BarrierRequest } from './index.js';

interface BarrierSensor {
  id: string;
  url: string;
  cameraId: string | null;
  zoneId: string | null;
  headers: Record<string, string>;
  timeoutMs: number;
}

export function barrierSensors(sensors: Array<Record<string, unknown>>): BarrierSensor[] {
  return sensors.flatMap((s) => {
    const cfg = (s.config ?? {}) as Record<string, unknown>;
    if ((s.type !== 'barrier' && s.type !== 'relay') || typeof cfg.url !== 'string') return [];
    return [{
      id: String(s.id ?? s.name ?? 'barrier'),
      url: cfg.url,
      cameraId: typeof s.camera_id === 'string' ? s.camera_id : null,
      zoneId: typeof s.zone_id === 'string' ? s.zone_id : null,
      headers: (cfg.headers && typeof cfg.headers === 'object' ? cfg.headers : {}) as Record<string, string>,
      timeoutMs: typeof cfg.timeout_ms === 'number' ? cfg.timeout_ms : 2000,
    }];
  });
}

/** A hook for `EdgeDaemon({ onBarrier })` driving the configured barriers; resolves when all answered. */
export function barrierHook(sensors: () => Array<Record<string, unknown>>): (req: BarrierRequest) => Promise<void> {
  return async (req) => {
    const targets = barrierSensors(sensors()).filter((b) => (!b.cameraId || b.cameraId === req.cameraId) && (!b.zoneId || b.zoneId === req.zoneId));
    const failures: string[] = [];
    await Promise.all(
      targets.map(async (b) => {
        try {
          const res = await request(b.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...b.headers },
            body: JSON.stringify({ sensor_id: b.id, camera_id: req.cameraId, zone_id: req.zoneId, plate_text: req.plateText, action: req.action, list: req.list }),
            headersTimeout: b.timeoutMs,
            bodyTimeout: b.timeoutMs,
          });
          await res.body.text();
          if (res.statusCode >= 300) failures.push(`${b.id}: HTTP ${res.statusCode}`);
        } catch (e) {
          failures.push(`${b.id}: ${redactUrl((e as Error).message)}`);
        }
      }),
    );
    if (failures.length) throw new Error(`barrier failed: ${failures.join('; ')}`);
  };
}
