/**
 * OpenAPI registration. Handlers validate their own input (they need the contract's error
 * body and PUT's merge semantics), so routes are registered in the document separately,
 * from the same zod schemas the handlers use.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { z } from '../../shared/schemas/common.js';
import { ErrorBody } from '../../shared/schemas/common.js';

type Method = 'get' | 'post' | 'put' | 'delete' | 'patch';

export interface RouteDoc {
  tag: string;
  summary: string;
  auth?: Array<'jwt' | 'apiKey'>;
  query?: z.ZodObject;
  params?: z.ZodObject;
  body?: z.ZodType;
  multipart?: z.ZodType;
  /** The route also takes (request) or serves (response) `text/csv`: what the text holds. */
  csvBody?: string;
  csvResponse?: string;
  status?: number;
  response?: z.ZodType;
  errors?: number[];
}

export function doc(app: OpenAPIHono<any>, method: Method, path: string, d: RouteDoc): void {
  const responses: Record<string, { description: string; content?: Record<string, { schema: z.ZodType }> }> = {};
  const ok = d.status ?? 200;
  responses[String(ok)] = d.csvResponse
    ? { description: 'OK', content: { 'text/csv': { schema: z.string().openapi({ description: d.csvResponse }) } } }
    : d.response
      ? { description: 'OK', content: { 'application/json': { schema: d.response } } }
      : { description: 'OK' };
  // Every route that takes a body answers 413 past its limit (cloud/http/body-limit.ts).
  const errors = new Set(d.errors ?? []);
  if (d.body || d.multipart || d.csvBody) errors.add(413);
  // Every write may meet a database busy past busy_timeout, a full disk or an I/O error: a
  // retryable 503 with Retry-After (docs/cloud-durability.md), never a 500.
  if (method !== 'get') errors.add(503);
  for (const code of [...errors].sort()) responses[String(code)] = { description: 'Error', content: { 'application/json': { schema: ErrorBody } } };
  const content: Record<string, { schema: z.ZodType }> = {};
  if (d.body) content['application/json'] = { schema: d.body };
  if (d.multipart) content['multipart/form-data'] = { schema: d.multipart };
  if (d.csvBody) content['text/csv'] = { schema: z.string().openapi({ description: d.csvBody }) };
  app.openAPIRegistry.registerPath({
    method,
    path: path.replace(/:(\w+)/g, '{$1}'),
    tags: [d.tag],
    summary: d.summary,
    security: (d.auth ?? ['jwt']).map((a) => ({ [a]: [] })),
    request: {
      ...(d.query ? { query: d.query } : {}),
      ...(d.params ? { params: d.params } : {}),
      ...(Object.keys(content).length ? { body: { content, required: true } } : {}),
    },
    responses,
  });
}
