/**
 * The cloud's stores as the routes, the auth middleware and the edge tracker see them: one
 * asynchronous contract per kind of data, so a backend whose every call is a round trip
 * (PostgreSQL, issue 12) and the embedded one (SQLite, synchronous better-sqlite3 behind
 * `sqliteStores`) are interchangeable.
 *
 * Guarantees every implementation keeps (docs/cloud-durability.md):
 * - `EventsStore.insert` resolves only once the row is durable (a 202 means stored), and an
 *   `event_id` is stored at most once ('duplicate' otherwise); its stats rollups commit with it.
 * - A write that fails changes nothing: each method is one transaction.
 * - Errors are `AppError`s with the API's codes (400s name the field, 404 unknown, 409 conflict,
 *   503 when the backend cannot take the write now); a method never half-applies a change.
 */
import type { ApiKeyInfo } from '../auth/api-keys.js';
import type { IssuedRefresh } from '../auth/refresh-tokens.js';
import type { Role, User, UserChange } from '../auth/users-store.js';
import type { EdgeRecord } from '../edges/edges-store.js';
import type { ConfigFilter, ConfigKind, Resource } from './config-store.js';
import type { EventFilter, EventRow, ExportCursor, SortField, StoredEvent } from './events-store.js';
import type { Interval, Stats } from './event-stats.js';
import type { EntriesChange, ListFilter } from './lists-store.js';
import type { ListEntry, ListSummary, ListUpdate } from '../../shared/schemas/lists.js';

/** Events: durable ingest, search, statistics from rollups, operators' corrections. */
export interface EventsStore {
  /** Resolves once the row is durable, or says the `event_id` was already stored. */
  insert(row: EventRow): Promise<'inserted' | 'duplicate'>;
  get(eventId: string): Promise<StoredEvent | undefined>;
  exists(eventId: string): Promise<boolean>;
  /** Whether the stored event `eventId` points at the image `rel` (the image sweep). */
  ownsImage(eventId: string, rel: string): Promise<boolean>;
  countAll(): Promise<number>;
  /** One page of a search and the number of matching events. */
  list(f: EventFilter, sort: SortField, order: 'asc' | 'desc', skip: number, limit: number): Promise<{ items: StoredEvent[]; total: number }>;
  /** One page of a long read (exports) by keyset: rows strictly after `after` in the sort order. */
  pageAfter(f: EventFilter, sort: SortField, order: 'asc' | 'desc', after: ExportCursor | null, limit: number): Promise<{ items: StoredEvent[]; next: ExportCursor | null }>;
  /** Statistics over [start, end] from the rollups, never a scan of the events. */
  stats(f: Omit<EventFilter, 'plate_text' | 'min_confidence'>, interval: Interval, now?: number): Promise<Stats>;
  /** Events per minute and mean processing time over the last `minutes` minutes. */
  recentRate(minutes: number, now?: number): Promise<{ perMinute: number; avgProcessingMs: number | null }>;
  /** Replaces an event's plate text, keeping the original read and every change in `body.correction`. */
  correctPlate(eventId: string, plateText: string, by: string, reason: string | null, now?: number): Promise<StoredEvent | undefined>;
  /** Commits what is queued and releases the store. */
  close(): Promise<void>;
}

/** Config resources (cameras, zones, models, sensors, exporters) and the config generation. */
export interface ConfigStore {
  create(kind: ConfigKind, body: Record<string, unknown>): Promise<Resource>;
  replace(kind: ConfigKind, res: Resource): Promise<Resource>;
  get(kind: ConfigKind, id: string): Promise<Resource | undefined>;
  /** The item's edge id (null: no edge), undefined when the item does not exist. */
  edgeOf(kind: ConfigKind, id: string): Promise<string | null | undefined>;
  /** Whether `edgeId` runs the item (cloud/store/config-store.ts `scopeOf`). */
  visibleTo(kind: ConfigKind, id: string, edgeId: string): Promise<boolean>;
  /** The JSON bodies of the items of `kind` that `edgeId` runs. */
  bodiesFor(kind: ConfigKind, edgeId: string): Promise<string[]>;
  /** A number that moves on every config change (edges compare it with their copy's). */
  generation(): Promise<number>;
  countFor(kind: ConfigKind, edgeId: string, exceptId: string | null): Promise<number>;
  delete(kind: ConfigKind, id: string): Promise<boolean>;
  list(kind: ConfigKind, f: ConfigFilter, skip: number, limit: number): Promise<{ items: Resource[]; total: number }>;
}

/** Access lists and their entries (issue 10). Each change is all stored or none of it. */
export interface ListsStore {
  get(id: string): Promise<ListSummary | undefined>;
  version(id: string): Promise<string | undefined>;
  create(id: string | null, fields: ListUpdate, entries: readonly ListEntry[]): Promise<ListSummary>;
  update(id: string, fields: ListUpdate): Promise<ListSummary | undefined>;
  delete(id: string): Promise<boolean>;
  list(f: ListFilter, skip: number, limit: number): Promise<{ items: ListSummary[]; total: number }>;
  /** The lists edge `edgeId` decides with (its own and the global ones). */
  appliedBy(edgeId: string): Promise<ListSummary[]>;
  appliesTo(id: string, edgeId: string): Promise<boolean>;
  countApplied(edgeId: string | null, exceptId: string | null): Promise<number>;
  page(id: string, skip: number, limit: number, prefix?: string): Promise<{ bodies: string[]; total: number }>;
  entriesAfter(id: string, after: string | null, limit: number): Promise<ListEntry[]>;
  upsert(id: string, entries: readonly ListEntry[], max: number): Promise<EntriesChange | undefined>;
  replace(id: string, entries: readonly ListEntry[]): Promise<EntriesChange | undefined>;
  /** The list after the removal; false: no such entry; undefined: no such list. */
  deleteEntry(id: string, plate: string): Promise<ListSummary | false | undefined>;
}

/** Back-office accounts. */
export interface UsersStore {
  count(): Promise<number>;
  get(username: string): Promise<User | undefined>;
  /** Refuses a taken username with 409 DUPLICATE_RESOURCE, also when two creations race. */
  create(username: string, password: string, role: Role): Promise<void>;
  list(): Promise<Array<Omit<User, 'password_hash'>>>;
  setRole(username: string, role: Role): Promise<boolean>;
  /** Disabling also ends the user's access tokens. */
  setDisabled(username: string, disabled: boolean): Promise<boolean>;
  /** A new password ends every access token issued with the old one. */
  setPassword(username: string, password: string): Promise<boolean>;
  /** Stores a stronger hash of the same password: tokens stay valid. */
  rehash(username: string, hash: string): Promise<void>;
  /**
   * Changes role, disabled state and/or password in one transaction; refuses ('last-admin',
   * nothing changed) a change that would leave no admin able to sign in.
   */
  change(username: string, patch: UserChange): Promise<User | 'not-found' | 'last-admin'>;
  /** Admins that can still sign in. */
  countActiveAdmins(): Promise<number>;
}

/** Edges' API keys: stored hashed, shown in clear once. */
export interface ApiKeysStore {
  /** Creates a key for `edgeId` (registering the edge if it is new). */
  create(edgeId: string, name?: string): Promise<{ key: string; info: ApiKeyInfo }>;
  list(edgeId?: string): Promise<ApiKeyInfo[]>;
  /** Forgets cached lookups (keys revoked other than through revoke()). */
  clearCache(): Promise<void>;
  /** Revokes by id or name; returns how many keys were revoked. */
  revoke(idOrName: string): Promise<number>;
  /** Whether a key is still unrevoked, asked of the database rather than a cache. */
  isActive(id: string): Promise<boolean>;
  /** The key's record when it is valid and not revoked. */
  verify(key: string): Promise<ApiKeyInfo | null>;
}

/** Web sign-ins: rotated refresh tokens in families. */
export interface RefreshTokenStore {
  readonly ttlMs: number;
  issue(username: string, now?: number): Promise<IssuedRefresh & { familyId: string }>;
  /** Consumes a token and returns its successor; 401 for anything else, and reuse ends the family. */
  rotate(token: string, now?: number): Promise<{ username: string; next: IssuedRefresh; familyId: string }>;
  revokeByToken(token: string, now?: number): Promise<string | null>;
  familyActive(familyId: string): Promise<boolean>;
  revokeFamily(familyId: string, now?: number): Promise<void>;
  revokeUser(username: string, now?: number): Promise<number>;
}

/** The registry of edges (gate boxes). */
export interface EdgesStore {
  get(id: string): Promise<EdgeRecord | undefined>;
  list(): Promise<EdgeRecord[]>;
  count(): Promise<number>;
  /** The edge's id when exactly one edge is registered, else null. */
  soleEdge(): Promise<string | null>;
  /** Registers `id` if it is new (true); the first edge adopts the cameras without one. */
  ensure(id: string, name?: string): Promise<boolean>;
  /** Writes the last accepted heartbeat; false when the edge no longer exists. */
  saveHeartbeat(id: string, instanceId: string | null, lastSeenAt: number | null, heartbeat: string | null): Promise<boolean>;
  rename(id: string, name: string): Promise<boolean>;
  /** Deletes the edge, revokes its keys, unassigns its cameras and deletes its exporters. */
  delete(id: string): Promise<boolean>;
}

/** Every store of one backend. */
export interface Stores {
  events: EventsStore;
  config: ConfigStore;
  /** Access lists and their entries. */
  lists: ListsStore;
  users: UsersStore;
  apiKeys: ApiKeysStore;
  /** Registered edges (gate boxes). */
  edges: EdgesStore;
  /** Web app sign-ins: rotated refresh tokens. */
  refreshTokens: RefreshTokenStore;
}
