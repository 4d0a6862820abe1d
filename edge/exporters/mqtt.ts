/**
 * MQTT exporter: QoS 1 publish of the event JSON to a topic template (default
 * `anpr/{edge_id}/{camera_id}/events`). The delivery counts only once the broker's PUBACK
 * arrived (mqtt.js calls back on PUBACK for QoS 1). A retained status topic says `online`
 * and the last will says `offline`, so subscribers know when the edge vanished.
 */
import type { MqttClient, IClientOptions } from 'mqtt';
import type { Logger } from '../../shared/log.js';
import { redactUrl, silentLogger } from '../../shared/log.js';
import type { OutboxEvent } from '../outbox/outbox.js';
import type { DeliverOptions, DeliveryResult, EventImages, Exporter } from './types.js';

export interface MqttExporterOptions {
  name?: string;
  url: string;
  edgeId: string;
  topic?: string;
  statusTopic?: string;
  username?: string;
  password?: string;
  clientId?: string;
  includeImages?: boolean;
  logger?: Logger;
}

export function renderTopic(template: string, vars: Record<string, string>): string {
  // MQTT wildcards and separators must not come from data.
  return template.replace(/\{(\w+)\}/g, (_m, k: string) => (vars[k] ?? '').replace(/[#+/\u0000]/g, '_'));
}

export class MqttExporter implements Exporter {
  readonly name: string;
  private client: MqttClient | null = null;
  private readonly log: Logger;

  constructor(private readonly o: MqttExporterOptions) {
    this.name = o.name ?? 'mqtt';
    this.log = (o.logger ?? silentLogger).child({ exporter: this.name });
  }

  get statusTopic(): string {
    return renderTopic(this.o.statusTopic ?? 'anpr/{edge_id}/status', { edge_id: this.o.edgeId });
  }

  async start(): Promise<void> {
    const { connect } = await import('mqtt');
    const status = this.statusTopic;
    const opts: IClientOptions = {
      clientId: this.o.clientId ?? `anpr-${this.o.edgeId}-${process.pid}`,
      username: this.o.username,
      password: this.o.password,
      reconnectPeriod: 1_000,
      connectTimeout: 10_000,
      clean: true,
      // Never let mqtt.js buffer events itself while offline: the outbox is the buffer.
      queueQoSZero: false,
      will: { topic: status, payload: Buffer.from('offline'), qos: 1, retain: true },
    };
    const client = connect(this.o.url, opts);
    this.client = client;
    client.on('connect', () => {
      this.log.info({ url: redactUrl(this.o.url) }, 'mqtt connected');
      client.publish(status, 'online', { qos: 1, retain: true });
    });
    client.on('error', (e) => this.log.warn({ error: redactUrl(e.message) }, 'mqtt error'));
    client.on('offline', () => this.log.warn('mqtt offline'));
  }

  deliver(event: OutboxEvent, images: EventImages, opts: DeliverOptions = {}): Promise<DeliveryResult> {
    const client = this.client;
    const signal = opts.signal;
    if (signal?.aborted) return Promise.resolve({ status: 'retry', error: 'delivery aborted' });
    if (!client) throw new Error('exporter not started');
    if (!client.connected) return Promise.resolve({ status: 'retry', error: 'mqtt broker not connected' });
    const topic = renderTopic(this.o.topic ?? 'anpr/{edge_id}/{camera_id}/events', {
      edge_id: this.o.edgeId,
      camera_id: event.cameraId,
      zone_id: String(event.body.zone_id ?? ''),
    });
    const payload: Record<string, unknown> = { ...event.body };
    if (this.o.includeImages) payload.crop_jpeg_base64 = images.crop?.toString('base64') ?? null;
    return new Promise((resolve) => {
      const done = (err?: Error) => {
        signal?.removeEventListener('abort', onAbort);
        // The callback of a QoS 1 publish fires on PUBACK, or with an error.
        resolve(err ? { status: 'retry', error: redactUrl(err.message) } : { status: 'delivered' });
      };
      const onAbort = () => {
        resolve({ status: 'retry', error: `delivery aborted: ${String((signal?.reason as Error | undefined)?.message ?? 'timeout')}` });
        // Given up: mqtt.js must not keep resending it on its own (the outbox retries it as a new attempt).
        for (const [id, o] of Object.entries(client.outgoing)) if (o.cb === done) client.removeOutgoingMessage(Number(id));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      client.publish(topic, JSON.stringify(payload), { qos: 1 }, done);
    });
  }

  async stop(): Promise<void> {
    const c = this.client;
    this.client = null;
    if (!c) return;
    if (c.connected) {
      await new Promise<void>((r) => c.publish(this.statusTopic, 'offline', { qos: 1, retain: true }, () => r()));
      await c.endAsync();
    } else {
      // Not connected: nothing to flush; do not wait for a reconnect that may never come.
      await c.endAsync(true);
    }
  }
}
