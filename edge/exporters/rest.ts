/**
 * Cloud REST exporter: `POST {url}/events/ingest` as multipart (event JSON + frame + crop JPEGs)
 * with `X-API-Key` and `X-Edge-Instance`, through undici. 2xx and 409 (already there) are
 * delivered, except 409 EDGE_ID_IN_USE (another box runs this edge id: nothing was stored, so the
 * event stays in the outbox and is retried); 429/5xx/network errors retry (Retry-After
 * honoured); any other 4xx is permanent for that event.
 */
import { Agent, request, FormData } from 'undici';
import { redactUrl } from '../../shared/log.js';
import type { OutboxEvent } from '../outbox/outbox.js';
import { parseRetryAfter, type DeliverOptions, type DeliveryResult, type EventImages, type Exporter } from './types.js';

export interface HttpTarget {
  url: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

/** Maps an HTTP response to a delivery result (shared with the webhook exporter). */
export function classifyHttp(status: number, body: string, retryAfter: string | string[] | undefined): DeliveryResult {
  if (status >= 200 && status < 300) return { status: 'delivered' };
  // The cloud refused this installation, not the event: never count it delivered.
  if (status === 409 && body.includes('EDGE_ID_IN_USE')) return { status: 'retry', error: `HTTP 409: ${body.slice(0, 300)}` };
  if (status === 409) return { status: 'delivered', detail: 'duplicate (already delivered)' };
  const error = `HTTP ${status}: ${body.slice(0, 300)}`;
  if (status === 429 || status === 408 || status >= 500) return { status: 'retry', error, retryAfterMs: parseRetryAfter(retryAfter) };
  return { status: 'dead', error };
}

/** One POST; an aborted `signal` closes the request at once and resolves `retry`. */
export async function postForm(agent: Agent, t: HttpTarget, path: string, form: FormData | string, extraHeaders: Record<string, string> = {}, signal?: AbortSignal): Promise<DeliveryResult> {
  const url = new URL(path, t.url.endsWith('/') ? t.url : t.url + '/').toString();
  try {
    const res = await request(url, {
      method: 'POST',
      dispatcher: agent,
      signal,
      headers: { ...(typeof form === 'string' ? { 'content-type': 'application/json' } : {}), ...t.headers, ...extraHeaders },
      body: form,
      headersTimeout: t.timeoutMs ?? 15_000,
      bodyTimeout: t.timeoutMs ?? 15_000,
    });
    const text = await res.body.text();
    return classifyHttp(res.statusCode, text, res.headers['retry-after']);
  } catch (e) {
    return { status: 'retry', error: redactUrl(`${(e as Error).message}${(e as { code?: string }).code ? ' (' + (e as { code?: string }).code + ')' : ''}`) };
  }
}

export function multipartEvent(event: OutboxEvent, images: EventImages): FormData {
  const form = new FormData();
  form.set('event', JSON.stringify(event.body));
  if (images.frame) form.set('frame', new Blob([images.frame as unknown as BlobPart], { type: 'image/jpeg' }), 'frame.jpg');
  if (images.crop) form.set('crop', new Blob([images.crop as unknown as BlobPart], { type: 'image/jpeg' }), 'crop.jpg');
  return form;
}

export class CloudRestExporter implements Exporter {
  readonly name: string;
  private agent: Agent | null = null;

  constructor(private readonly opts: { url: string; apiKey: string; name?: string; timeoutMs?: number; instanceId?: string }) {
    this.name = opts.name ?? 'cloud';
  }

  async start(): Promise<void> {
    this.agent = new Agent({ keepAliveTimeout: 10_000, connections: 8 });
  }

  deliver(event: OutboxEvent, images: EventImages, opts: DeliverOptions = {}): Promise<DeliveryResult> {
    if (!this.agent) throw new Error('exporter not started');
    return postForm(this.agent, { url: this.opts.url, timeoutMs: this.opts.timeoutMs }, 'events/ingest', multipartEvent(event, images), {
      'x-api-key': this.opts.apiKey,
      ...(this.opts.instanceId ? { 'x-edge-instance': this.opts.instanceId } : {}),
    }, opts.signal);
  }

  async stop(): Promise<void> {
    await this.agent?.close();
    this.agent = null;
  }
}
