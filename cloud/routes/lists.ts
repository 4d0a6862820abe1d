/**
 * Access lists API (issue 10): `/config/lists` and their entries (docs/api.md, "Access lists").
 *
 * Who: admins write; viewers read; an edge's key reads the lists its edge applies (`edge_id`
 * null or its own): another edge's list is a 403 (its entries and export too), and a listing
 * holds only those. Writes take JSON; the entries routes take `text/csv` as well
 * (cloud/lists/entries-csv.ts).
 *
 * Guarantees:
 * - A refused write stores nothing: validation (every entry, every CSV line) happens before the
 *   store's one transaction, and the store refuses a list that would pass MAX_LIST_ENTRIES
 *   inside it (413).
 * - Bad input is a 400 naming the field: `entries.3.plate`, `lines.7.schedule`, `edge_id`,
 *   `camera_ids.0`; at most MAX_REPORTED of them for one body.
 * - More than MAX_LIST_ENTRIES entries in a body is a 413 naming the limit, raised while the
 *   body streams in (cloud/lists/import-body.ts), not after reading all of it.
 * - An edge applies at most EDGE_LIMITS.lists lists: a create or change that would give one
 *   more is a 400 naming `edge_id`.
 * - Entries pages and the CSV export carry `ETag: "<version>"`; `If-None-Match` naming it is a
 *   304 without reading any entry. The export streams page by page and fails the download (the
 *   client sees a broken transfer, never a mixed file) when the list changes under it.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { AppError, fieldErrors, type FieldError } from '../../shared/errors.js';
import { z, Id, PageQuery, QueryBool, pageOf } from '../../shared/schemas/common.js';
import { EDGE_LIMITS } from '../../shared/schemas/edge.js';
import {
  LIST_TYPES,
  ListCreate,
  ListDetail,
  ListEntriesBody,
  ListEntriesPage,
  ListEntriesResult,
  ListSummary,
  ListUpdate,
  MAX_ENTRIES_PAGE,
  MAX_LIST_ENTRIES,
  type ListEntry,
  type ListEdgeVersion,
} from '../../shared/schemas/lists.js';
import { normalizePlate } from '../../shared/plate/normalize.js';
import type { CloudContext } from '../context.js';
import { requireAuth, requireRole } from '../auth/middleware.js';
import { notFound, readJson, validate, validateQuery } from '../http/errors.js';
import { rateLimit } from '../http/rate-limit.js';
import type { Env } from '../http/types.js';
import type { BodyLimitRule } from '../http/body-limit.js';
import { doc } from '../http/docs.js';
import { csvStream } from '../http/csv-stream.js';
import { ifNoneMatchHits } from './edge-config.js';
import { CSV_HEADER, MAX_REPORTED, csvHeaderLine, csvLine } from '../lists/entries-csv.js';
import { LIST_BODY_MAX_BYTES, bodyKind, readCsvEntriesBody, readJsonEntriesBody } from '../lists/import-body.js';

/** The routes whose bodies may hold a whole list (cloud/app.ts gives them LIST_BODY_MAX_BYTES). */
export const LIST_BODY_ROUTES: BodyLimitRule[] = [
  { method: 'POST', path: '/config/lists', maxBytes: LIST_BODY_MAX_BYTES },
  { method: 'POST', path: /^\/config\/lists\/[^/]+\/entries$/, maxBytes: LIST_BODY_MAX_BYTES },
  { method: 'PUT', path: /^\/config\/lists\/[^/]+\/entries$/, maxBytes: LIST_BODY_MAX_BYTES },
];

/** Entries per page of the CSV export: a page is read and formatted in one go, then the loop turns. */
const EXPORT_PAGE = 2000;

const ListQuery = PageQuery.extend({
  type: z.enum(LIST_TYPES).optional(),
  enabled: QueryBool.optional(),
  edge_id: Id.optional().describe('Only the lists of this edge (not those of every edge)'),
}).strict();

const EntriesQuery = z
  .object({
    skip: z.coerce.number().int().min(0).max(MAX_LIST_ENTRIES).default(0).openapi({ description: 'Entries to skip' }),
    limit: z.coerce.number().int().min(1).max(MAX_ENTRIES_PAGE).default(1000).openapi({ description: `Entries to return (max ${MAX_ENTRIES_PAGE})` }),
    q: z.string().max(64).optional().openapi({ description: 'Only plates starting with this (normalised first: "ab-1" finds AB1…)' }),
  })
  .strict();

const ListParams = z.object({ id: z.string() });
const EntryParams = z.object({ id: z.string(), plate: z.string().openapi({ description: 'The plate, as written or normalised' }) });

/** Read-only fields a client may send back on PUT (they are ignored). */
const READ_ONLY = ['created_at', 'updated_at', 'version', 'entries_count', 'edges'];

const validationError = (errors: FieldError[]) =>
  new AppError('VALIDATION_ERROR', `Validation error: ${errors[0]!.message}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}`, { errors });

/** Parses with `schema`, or a 400 naming the first MAX_REPORTED bad fields (100,000 bad entries are not 100,000 errors). */
function parseCapped<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw validationError(fieldErrors(r.error.issues.slice(0, MAX_REPORTED) as never));
}

/** Plates are unique in a list: a second entry with the same normalised plate is a 400 naming both. */
function checkUniquePlates(entries: readonly ListEntry[]): void {
  const seen = new Map<string, number>();
  const errors: FieldError[] = [];
  entries.forEach((e, i) => {
    const first = seen.get(e.plate);
    if (first === undefined) seen.set(e.plate, i);
    else if (errors.length < MAX_REPORTED) {
      errors.push({ field: `entries.${i}.plate`, message: `entries.${i}.plate: ${e.plate} is also entries.${first}.plate (plates are compared normalised); a plate appears once per list` });
    }
  });
  if (errors.length) throw validationError(errors);
}

export function registerListRoutes(app: OpenAPIHono<Env>, ctx: CloudContext, clientIp: (c: Context) => string): void {
  const limit = rateLimit(ctx.limiter, 'config', clientIp);
  const read = [requireAuth(ctx, { apiKey: true }), requireRole('viewer', true), limit] as const;
  const write = [requireAuth(ctx), requireRole('admin'), limit] as const;
  const tag = 'Access lists';

  /** The list `id` as the caller may see it: 404 when there is none, 403 for an edge that does not apply it. */
  const visible = async (c: Context<Env>, id: string) => {
    const list = await ctx.lists.get(id);
    if (!list) throw notFound('List');
    const p = c.get('principal');
    if (p.kind === 'edge' && !(await ctx.lists.appliesTo(id, p.edgeId))) throw new AppError('FORBIDDEN', `This list is not applied by edge ${p.edgeId}`);
    return list;
  };

  /** The registered edges that apply `list`, and the version each last reported deciding with. */
  const edgesOf = async (c: Context<Env>, list: ListSummary): Promise<ListEdgeVersion[]> => {
    const p = c.get('principal');
    let ids = list.edge_id === null ? (await ctx.edges.list()).map((e) => e.id) : (await ctx.edges.get(list.edge_id)) ? [list.edge_id] : [];
    if (p.kind === 'edge') ids = ids.filter((id) => id === p.edgeId);
    return ids.map((id) => {
      const version = ctx.edgeHealth.state(id).heartbeat?.lists?.find((l) => l.id === list.id)?.version ?? null;
      return { id, version, current: version === list.version };
    });
  };
  const detail = async (c: Context<Env>, list: ListSummary) => ({ ...list, edges: await edgesOf(c, list) });

  /** Refuses fields that name what does not exist or would give an edge too many lists (400 naming the field). */
  const checkPlacement = async (fields: ListUpdate, id: string | null) => {
    const errors: FieldError[] = [];
    if (fields.edge_id !== null && !(await ctx.edges.get(fields.edge_id))) {
      errors.push({ field: 'edge_id', message: `edge_id: no edge ${fields.edge_id} is registered (GET /edges lists them; null = every edge)` });
    }
    for (const [i, cam] of fields.camera_ids.entries()) {
      const camera = await ctx.config.get('cameras', cam);
      if (!camera) errors.push({ field: `camera_ids.${i}`, message: `camera_ids.${i}: no camera ${cam}` });
      else if (fields.edge_id !== null && camera.edge_id !== fields.edge_id) {
        errors.push({ field: `camera_ids.${i}`, message: `camera_ids.${i}: camera ${cam} is not captured by edge ${fields.edge_id}` });
      }
    }
    if (errors.length) throw validationError(errors);
    const most = EDGE_LIMITS.lists;
    const edges = fields.edge_id !== null ? [fields.edge_id] : (await ctx.edges.list()).map((e) => e.id);
    let full: string | undefined;
    for (const e of edges) if ((await ctx.lists.countApplied(e, id)) >= most) full ??= e;
    if (full === undefined && edges.length === 0 && (await ctx.lists.countApplied(null, id)) >= most) full = 'every edge';
    if (full !== undefined) {
      throw validationError([{ field: 'edge_id', message: `edge_id: ${full === 'every edge' ? 'there are' : `edge ${full} applies`} ${most} lists already, the most one edge applies; merge lists or remove one` }]);
    }
  };

  const username = (c: Context<Env>) => {
    const p = c.get('principal');
    return p.kind === 'user' ? p.username : p.name;
  };

  app.get('/config/lists', ...read, async (c) => {
    const q = validateQuery(ListQuery, c);
    const p = c.get('principal');
    const { items, total } = await ctx.lists.list({ type: q.type, enabled: q.enabled, edge_id: q.edge_id, ...(p.kind === 'edge' ? { visibleTo: p.edgeId } : {}) }, q.skip, q.limit);
    return c.json({ items, total, skip: q.skip, limit: q.limit });
  });
  doc(app, 'get', '/config/lists', {
    tag,
    summary: "Access lists without their entries (viewer; an edge's key lists only the lists its edge applies: edge_id null or its own)",
    auth: ['jwt', 'apiKey'],
    query: ListQuery,
    response: pageOf(ListSummary, 'ListPage'),
    errors: [400, 401, 403, 429],
  });

  app.post('/config/lists', ...write, async (c) => {
    bodyKind(c, false);
    const body = parseCapped(ListCreate, await readJsonEntriesBody(c, MAX_LIST_ENTRIES));
    const { id, entries, ...fields } = body;
    checkUniquePlates(entries);
    await checkPlacement(fields, id ?? null);
    const list = await ctx.lists.create(id ?? null, fields, entries);
    ctx.log.info({ list: list.id, entries: list.entries_count, by: username(c) }, 'list created');
    return c.json(await detail(c, list), 201);
  });
  doc(app, 'post', '/config/lists', {
    tag,
    summary: `Create a list, optionally with its entries (admin; at most ${MAX_LIST_ENTRIES} entries, more is a 413)`,
    body: ListCreate,
    status: 201,
    response: ListDetail,
    errors: [400, 401, 403, 409, 415, 429],
  });

  app.get('/config/lists/:id', ...read, async (c) => c.json(await detail(c, await visible(c, c.req.param('id')))));
  doc(app, 'get', '/config/lists/:id', {
    tag,
    summary: "One list, and which edges applying it decide with its current version (`edges`, from their heartbeats). Viewer; an edge's key: 403 unless its edge applies the list",
    auth: ['jwt', 'apiKey'],
    params: ListParams,
    response: ListDetail,
    errors: [401, 403, 404, 429],
  });

  app.put('/config/lists/:id', ...write, async (c) => {
    const id = c.req.param('id');
    if (!(await ctx.lists.get(id))) throw notFound('List');
    const body = await readJson(c);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw validationError([{ field: '(body)', message: 'body must be a JSON object' }]);
    const patch = { ...(body as Record<string, unknown>) };
    for (const k of READ_ONLY) delete patch[k];
    if (patch.id !== undefined && patch.id !== id) throw validationError([{ field: 'id', message: 'id: cannot be changed' }]);
    delete patch.id;
    if (patch.entries !== undefined) {
      throw validationError([{ field: 'entries', message: `entries: PUT /config/lists/${id} changes the list's fields; entries are changed with POST or PUT /config/lists/${id}/entries` }]);
    }
    const fields = validate(ListUpdate, patch);
    await checkPlacement(fields, id);
    const list = await ctx.lists.update(id, fields);
    if (!list) throw notFound('List');
    return c.json(await detail(c, list));
  });
  doc(app, 'put', '/config/lists/:id', {
    tag,
    summary: "Replace a list's fields (admin): omitted fields take their defaults; read-only fields sent back (version, entries_count, created_at, updated_at, edges) are ignored; entries are not touched (see /entries). An unchanged list keeps its version",
    params: ListParams,
    body: ListUpdate,
    response: ListDetail,
    errors: [400, 401, 403, 404, 429],
  });

  app.delete('/config/lists/:id', ...write, async (c) => {
    if (!(await ctx.lists.delete(c.req.param('id')))) throw notFound('List');
    ctx.log.info({ list: c.req.param('id'), by: username(c) }, 'list deleted');
    return c.body(null, 204);
  });
  doc(app, 'delete', '/config/lists/:id', { tag, summary: 'Delete a list and its entries (admin)', params: ListParams, status: 204, errors: [401, 403, 404, 429] });

  app.get('/config/lists/:id/entries', ...read, async (c) => {
    const q = validateQuery(EntriesQuery, c);
    const list = await visible(c, c.req.param('id'));
    const etag = `"${list.version}"`;
    c.header('ETag', etag);
    c.header('Cache-Control', 'private, no-cache');
    if (ifNoneMatchHits(c.req.header('if-none-match'), etag)) return c.body(null, 304);
    const { bodies, total } = await ctx.lists.page(list.id, q.skip, q.limit, q.q === undefined ? '' : normalizePlate(q.q));
    // The stored entries are JSON already: served as they are.
    const text = `{"items":[${bodies.join(',')}],"total":${total},"skip":${q.skip},"limit":${q.limit},"version":${JSON.stringify(list.version)}}`;
    return c.body(text, 200, { 'content-type': 'application/json' });
  });
  doc(app, 'get', '/config/lists/:id/entries', {
    tag,
    summary: `One page of a list's entries in plate order (limit up to ${MAX_ENTRIES_PAGE}; q = plate prefix). ETag "<version>" on every page (a page with another tag than the first: the list changed, read again); If-None-Match with it answers 304. Viewer; an edge's key for the lists its edge applies`,
    auth: ['jwt', 'apiKey'],
    params: ListParams,
    query: EntriesQuery,
    response: ListEntriesPage,
    errors: [400, 401, 403, 404, 429],
  });

  /** The entries of a POST or PUT body, validated, plates unique. */
  const entriesOf = async (c: Context<Env>): Promise<ListEntry[]> => {
    const kind = bodyKind(c, true);
    if (kind === 'csv') return readCsvEntriesBody(c, MAX_LIST_ENTRIES);
    const { entries } = parseCapped(ListEntriesBody, await readJsonEntriesBody(c, MAX_LIST_ENTRIES));
    checkUniquePlates(entries);
    return entries;
  };

  app.post('/config/lists/:id/entries', ...write, async (c) => {
    const id = c.req.param('id');
    if (!(await ctx.lists.get(id))) throw notFound('List');
    const entries = await entriesOf(c);
    const r = await ctx.lists.upsert(id, entries, MAX_LIST_ENTRIES);
    if (!r) throw notFound('List');
    ctx.log.info({ list: id, added: r.added, updated: r.updated, by: username(c) }, 'list entries added');
    return c.json(r);
  });
  doc(app, 'post', '/config/lists/:id/entries', {
    tag,
    summary: `Add entries to a list, replacing those of the same plates (admin). JSON {entries: [...]} or text/csv (header ${CSV_HEADER.join(',')}); all or nothing: a bad entry or CSV line is a 400 naming it (entries.N.field, lines.N.column) and nothing is stored; past ${MAX_LIST_ENTRIES} entries in the list, 413`,
    params: ListParams,
    body: ListEntriesBody,
    csvBody: `CSV, first line ${CSV_HEADER.join(',')}; schedule as "mon-fri 07:00-19:00; sat 08:00-12:00"`,
    response: ListEntriesResult,
    errors: [400, 401, 403, 404, 415, 429],
  });

  app.put('/config/lists/:id/entries', ...write, async (c) => {
    const id = c.req.param('id');
    if (!(await ctx.lists.get(id))) throw notFound('List');
    const entries = await entriesOf(c);
    const r = await ctx.lists.replace(id, entries);
    if (!r) throw notFound('List');
    ctx.log.info({ list: id, added: r.added, updated: r.updated, removed: r.removed, by: username(c) }, 'list entries replaced');
    return c.json(r);
  });
  doc(app, 'put', '/config/lists/:id/entries', {
    tag,
    summary: `Replace all of a list's entries (admin): JSON {entries: [...]} or text/csv, as POST; entries equal to the stored ones keep the version`,
    params: ListParams,
    body: ListEntriesBody,
    csvBody: `CSV, first line ${CSV_HEADER.join(',')}`,
    response: ListEntriesResult,
    errors: [400, 401, 403, 404, 415, 429],
  });

  app.delete('/config/lists/:id/entries/:plate', ...write, async (c) => {
    const plate = normalizePlate(c.req.param('plate'));
    if (plate === '') throw validationError([{ field: 'plate', message: 'plate: needs at least one letter or digit' }]);
    const r = await ctx.lists.deleteEntry(c.req.param('id'), plate);
    if (r === undefined) throw notFound('List');
    if (r === false) throw notFound(`Entry ${plate}`);
    return c.body(null, 204);
  });
  doc(app, 'delete', '/config/lists/:id/entries/:plate', { tag, summary: 'Remove one entry (admin); the plate is normalised first', params: EntryParams, status: 204, errors: [400, 401, 403, 404, 429] });

  app.get('/config/lists/:id/entries.csv', ...read, async (c) => {
    const list = await visible(c, c.req.param('id'));
    const etag = `"${list.version}"`;
    if (ifNoneMatchHits(c.req.header('if-none-match'), etag)) {
      c.header('ETag', etag);
      return c.body(null, 304);
    }
    let after: string | null = null;
    const stream = csvStream({
      header: csvHeaderLine(),
      nextPage: async () => {
        if (await ctx.lists.version(list.id) !== list.version) throw new Error(`list ${list.id} changed during the export`);
        const page = await ctx.lists.entriesAfter(list.id, after, EXPORT_PAGE);
        after = page.length ? page[page.length - 1]!.plate : after;
        return { text: page.map(csvLine).join(''), last: page.length < EXPORT_PAGE };
      },
      onError: (e) => ctx.log.warn({ list: list.id, err: e }, 'list export stopped'),
    });
    return c.body(stream, 200, {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="${list.id}.csv"`,
      'cache-control': 'private, no-cache',
      etag,
    });
  });
  doc(app, 'get', '/config/lists/:id/entries.csv', {
    tag,
    summary: `A list's entries as CSV (${CSV_HEADER.join(',')}), in plate order, streamed; what the import reads back. ETag "<version>"; If-None-Match answers 304; a list changed during the download breaks the transfer`,
    auth: ['jwt', 'apiKey'],
    params: ListParams,
    csvResponse: `CSV, first line ${CSV_HEADER.join(',')}`,
    errors: [401, 403, 404, 429],
  });
}
