/**
 * The exporters a config asks for, by name, each with the key of what it is built from (a
 * changed key restarts that exporter only): `cloud` (the cloud's ingest) when
 * `cloud.deliver_events`, then the enabled MQTT and webhook/REST exporters.
 */
import type { Logger } from '../../shared/log.js';
import type { EdgeConfig } from '../config/schema.js';
import { CloudRestExporter } from '../exporters/rest.js';
import { MqttExporter } from '../exporters/mqtt.js';
import { WebhookExporter } from '../exporters/webhook.js';
import type { Exporter } from '../exporters/types.js';

export function exporterNames(cfg: EdgeConfig): string[] {
  return [...(cfg.cloud?.deliver_events ? ['cloud'] : []), ...cfg.exporters.filter((e) => e.enabled).map((e) => e.name)];
}

/** Exporters are built, not started (their constructors only store their arguments). */
export function buildExporters(cfg: EdgeConfig, log: Logger, instanceId?: string): Map<string, { key: string; exporter: Exporter }> {
  const m = new Map<string, { key: string; exporter: Exporter }>();
  if (cfg.cloud?.deliver_events) {
    const c = cfg.cloud;
    m.set('cloud', { key: JSON.stringify([c.url, c.api_key, c.timeout_ms, instanceId]), exporter: new CloudRestExporter({ url: c.url, apiKey: c.api_key, timeoutMs: c.timeout_ms, instanceId }) });
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
          logger: log,
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
