/**
 * Building blocks shared by every schema. All schemas are written once with zod (through
 * @hono/zod-openapi, which adds `.openapi()` metadata) and give validation, TypeScript types
 * and the OpenAPI document at /docs.
 */
import { z } from '@hono/zod-openapi';
import { MAX_JSON_DEPTH, jsonTooDeep } from './json-bounds.js';

export { z };

/** C0 controls (NUL, CR, LF, ESC, …) and DEL: never valid in a URL, header, argument or file name. */
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * A string that may reach a process's arguments, a URL, an HTTP header or a file name: no
 * control characters (a NUL makes `spawn` throw; CR/LF split headers). The 400 names the field.
 */
export const SafeString = () => z.string().refine((v) => !CONTROL.test(v), 'must not contain control characters');

/**
 * Free-form JSON (an object) bounded in depth and size: measured without recursion first, so a
 * 100,000-deep value is a 400 naming the field, never a stack overflow.
 */
export function boundedJson<T extends z.ZodType<Record<string, unknown>>>(schema: T, maxBytes: number) {
  return schema.superRefine((v, ctx) => {
    const deep = jsonTooDeep(v, MAX_JSON_DEPTH);
    if (deep) {
      ctx.addIssue({ code: 'custom', path: deep.slice(0, 1), message: `nests deeper than ${MAX_JSON_DEPTH} levels` });
      return;
    }
    if (JSON.stringify(v).length > maxBytes) ctx.addIssue({ code: 'custom', message: `must serialise to at most ${maxBytes / 1024} KiB` });
  });
}

/** An http:// or https:// URL with a host (webhooks, REST exporters, HTTP relays). */
export const HttpUrl = SafeString()
  .max(2048)
  .refine((v) => {
    try {
      const u = new URL(v);
      return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname.length > 0;
    } catch {
      return false;
    }
  }, 'Invalid URL: expected http:// or https://');

/** A human-readable name of a config object. */
export const Name = SafeString().trim().min(1).max(128).describe('Human-readable name, 1-128 characters');

/** Identifiers that end up in URLs, file names and MQTT topics: a safe character set only. */
export const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
export const Id = z
  .string()
  .regex(SAFE_ID, 'must be 1-128 characters of A-Z a-z 0-9 . _ : - and start with a letter or digit');

export const IsoDateTime = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time with timezone (e.g. 2023-12-15T14:30:45.123Z)' });

/** Free-form metadata: a JSON object, bounded in size so no client can store megabytes. */
export const Metadata = boundedJson(z.record(z.string().max(128), z.unknown()), 16_384).openapi({
  description: `Free-form JSON object (≤ 16 KiB, nested ≤ ${MAX_JSON_DEPTH} levels)`,
  example: { location: 'Main gate' },
});

export const Box = z
  .object({
    x: z.number().min(0).max(100_000),
    y: z.number().min(0).max(100_000),
    width: z.number().min(0).max(100_000),
    height: z.number().min(0).max(100_000),
  })
  .strict()
  .openapi('Box');
export type Box = z.infer<typeof Box>;

/** Paging query common to every list endpoint. */
export const PageQuery = z.object({
  skip: z.coerce.number().int().min(0).max(1_000_000_000).default(0).openapi({ description: 'Records to skip' }),
  limit: z.coerce.number().int().min(1).max(1000).default(100).openapi({ description: 'Records to return (max 1000)' }),
});

/** Query-string boolean: accepts true/false/1/0. */
export const QueryBool = z
  .enum(['true', 'false', '1', '0'])
  .transform((v) => v === 'true' || v === '1')
  .openapi({ type: 'boolean' });

export function pageOf<T extends z.ZodTypeAny>(item: T, name: string) {
  return z
    .object({ items: z.array(item), total: z.number().int(), skip: z.number().int(), limit: z.number().int() })
    .openapi(name);
}

/** The contract's error body. */
export const ErrorBody = z
  .object({
    detail: z.string(),
    error_code: z.string(),
    timestamp: z.string(),
    request_id: z.string(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .openapi('Error');
