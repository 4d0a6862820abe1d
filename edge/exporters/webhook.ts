/**
 * Generic webhook: POSTs the event JSON (images as base64 optional) to a URL with custom headers
 * and bearer or basic auth, on the same retry machinery as the cloud exporter.
 */
import { Agent } from 'undici';
import type { OutboxEvent } from '../outbox/outbox.js';
import { postForm } from './rest.js';
import type { DeliverOptions, DeliveryResult, EventImages, Exporter } from './types.js';

export interface WebhookOptions {
  name: string;
  url: string;
  headers?: Record<string, string>;
  auth?: { type: 'bearer'; token: string } | { type: 'basic'; username: string; password: string };
  includeImages?: boolean;
  timeoutMs?: number;
}

export class WebhookExporter implements Exporter {
  readonly name: string;
  private agent: Agent | null = null;

  constructor(private readonly o: WebhookOptions) {
    this.name = o.name;
  }

  async start(): Promise<void> {
    this.agent = new Agent({ keepAliveTimeout: 10_000, connections: 4 });
  }

  deliver(event: OutboxEvent, images: EventImages, opts: DeliverOptions = {}): Promise<DeliveryResult> {
    if (!this.agent) throw new Error('exporter not started');
    const headers: Record<string, string> = { ...this.o.headers };
    const a = this.o.auth;
    if (a?.type === 'bearer') headers.authorization = `Bearer ${a.token}`;
    if (a?.type === 'basic') headers.authorization = `Basic ${Buffer.from(`${a.username}:${a.password}`).toString('base64')}`;
    const payload: Record<string, unknown> = { ...event.body };
    if (this.o.includeImages) {
      payload.frame_jpeg_base64 = images.frame?.toString('base64') ?? null;
      payload.crop_jpeg_base64 = images.crop?.toString('base64') ?? null;
    }
    const u = new URL(this.o.url);
    const base = `${u.protocol}//${u.host}/`;
    return postForm(this.agent, { url: base, timeoutMs: this.o.timeoutMs }, u.pathname.slice(1) + u.search, JSON.stringify(payload), headers, opts.signal);
  }

  async stop(): Promise<void> {
    await this.agent?.close();
    this.agent = null;
  }
}
