/**
 * What one edge runs, as the cloud serves it (`GET /edges/{id}/config`, EdgeConfigBundle): its
 * cameras, their zones and sensors, the sensors of no camera, every model, the exporters of
 * every edge or of this one, and the access lists it applies (of every edge or its own, enabled
 * or not, without their entries: ListsStore `appliedBy`). The selection is ConfigStore's `scopeOf`, the same one that scopes
 * `GET /config/*` for an edge's key, so the bundle and the lists never disagree.
 *
 * Guarantees:
 * - `version` is the first 16 hex digits of the sha256 of the canonical JSON (keys sorted, items
 *   ordered by id) of the bundle's items and lists without `created_at`/`updated_at`: the same
 *   content is the same version whatever was saved and saved back, and a change to what another
 *   edge runs (its cameras, their zones, its exporters, its lists) does not change this edge's
 *   version. A list's `version` moves with every change of its entries, so an entry added to a
 *   list this edge applies moves this edge's version too.
 * - Items are served as stored, credentials in full (the edge delivers and captures with them):
 *   only to the edge's own key or an admin (cloud/routes/edge-config.ts).
 * - Cheap: a handful of indexed queries and one hash over the edge's own items, no cache to go
 *   stale (200 edges polling every 30 s is about 7 bundles a second).
 */
import { createHash } from 'node:crypto';
import type { Context } from 'hono';
import { AppError } from '../../shared/errors.js';
import type { EdgeConfigBundle } from '../../shared/schemas/edge.js';
import type { ListSummary } from '../../shared/schemas/lists.js';
import { clampDepth } from '../../shared/schemas/json-bounds.js';
import type { CloudContext } from '../context.js';
import type { ConfigKind } from '../store/config-store.js';

const KINDS = ['cameras', 'zones', 'sensors', 'models', 'exporters'] as const satisfies readonly ConfigKind[];

type Items = Record<(typeof KINDS)[number], Array<Record<string, unknown>>> & { lists: ListSummary[] };

/** JSON with object keys sorted at every level: one text per content. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

async function itemsOf(ctx: CloudContext, edgeId: string): Promise<Items> {
  const out = {} as Items;
  for (const kind of KINDS) out[kind] = (await ctx.config.bodiesFor(kind, edgeId)).map((b) => clampDepth(JSON.parse(b) as Record<string, unknown>));
  out.lists = await ctx.lists.appliedBy(edgeId);
  return out;
}

function versionOf(items: Items): string {
  const bare = {} as Record<string, unknown>;
  for (const kind of KINDS) bare[kind] = items[kind].map(({ created_at: _c, updated_at: _u, ...rest }) => rest);
  // Left out when empty: an edge without lists keeps the version it had before lists existed.
  if (items.lists.length) bare.lists = items.lists.map(({ created_at: _c, updated_at: _u, ...rest }) => rest);
  return createHash('sha256').update(canonicalJson(bare)).digest('hex').slice(0, 16);
}

/** The config edge `edgeId` runs, with its version (also the ETag of `GET /edges/{id}/config`). */
export async function edgeBundle(ctx: CloudContext, edgeId: string): Promise<EdgeConfigBundle> {
  const items = await itemsOf(ctx, edgeId);
  return { edge_id: edgeId, version: versionOf(items), ...items };
}

/** Versions computed per config store and edge, with the config generation they were computed at. */
const versions = new WeakMap<object, Map<string, { generation: number; version: string }>>();

/**
 * The version of the config edge `edgeId` runs: equal versions, equal content. Recomputed only
 * when a config item or a list changed since (ConfigStore.generation(), raised by any process's
 * change of an item, and by ListsStore with every change of a list):
 * every heartbeat asks for it, and 200 edges every 5 s must stay cheap.
 */
export async function edgeConfigVersion(ctx: CloudContext, edgeId: string): Promise<string> {
  const generation = await ctx.config.generation();
  let byEdge = versions.get(ctx.config);
  if (!byEdge) versions.set(ctx.config, (byEdge = new Map()));
  const hit = byEdge.get(edgeId);
  if (hit && hit.generation === generation) return hit.version;
  const version = versionOf(await itemsOf(ctx, edgeId));
  if (byEdge.size > 10_000) byEdge.clear();
  byEdge.set(edgeId, { generation, version });
  return version;
}

/**
 * A request of an edge's key whose `X-Edge-Instance` names another installation than the one
 * heard last (and still alive) is refused with 409 EDGE_ID_IN_USE (cloud/edges/edge-health.ts).
 */
export function refuseSecondInstallation(ctx: CloudContext, c: Context, edgeId: string): void {
  const why = ctx.edgeHealth.instanceConflict(edgeId, c.req.header('x-edge-instance'));
  if (why) throw new AppError('EDGE_ID_IN_USE', why);
}
