export interface Candidate {
  text: string;
  confidence: number;
  model: string;
}
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}
export interface ApiEvent {
  id: string;
  event_id: string;
  timestamp: string;
  camera_id: string | null;
  zone_id: string | null;
  plate_text: string;
  confidence: number | null;
  raw_candidates: Candidate[];
  frame_url: string | null;
  crop_url: string | null;
  vehicle_info: { type?: string; color?: string; confidence?: number; bbox?: Box } | null;
  tpms_status: Record<string, unknown> | null;
  metadata: Record<string, unknown>;
  created_at: string;
  correction?: Correction | null;
  /** What the gate decided (shared/schemas/lists.ts Decision); null or absent: no decision recorded. */
  decision?: Decision | null;
}
export type ListType = 'allow' | 'deny' | 'watch';
export type DecisionAction = 'open' | 'deny' | 'alert' | 'none';
/** The edge's access decision about one read (shared/schemas/lists.ts Decision). */
export interface Decision {
  action: DecisionAction;
  list: { id: string; name: string; type: ListType } | null;
  entry_label: string | null;
  matched_plate: string | null;
  distance: number | null;
  direction: 'in' | 'out' | null;
  alert: boolean;
  reason: string;
  latency_ms: number | null;
}
export interface Correction {
  original_plate_text: string;
  corrected_by: string;
  corrected_at: string;
  history: Array<{ from: string; to: string; by: string; at: string; reason: string | null }>;
}
export interface Page<T> {
  items: T[];
  total: number;
  skip: number;
  limit: number;
}
export type Resource = Record<string, unknown> & { id: string; name?: string; created_at: string; updated_at: string };

/** An edge (gate box) as `GET /edges` serves it (shared/schemas/edge.ts EdgeStatus). */
export type EdgeStatusName = 'online' | 'degraded' | 'offline';
export interface EdgeCamera {
  id: string;
  state: 'starting' | 'running' | 'reconnecting' | 'stalled' | 'disabled' | 'invalid';
  fps: number;
  error?: string | null;
}
export interface EdgeConfigProblem {
  kind: string;
  id: string;
  dropped: 'item' | 'settings';
  errors: string[];
}
export interface Edge {
  id: string;
  name: string;
  status: EdgeStatusName;
  last_seen_at: string | null;
  created_at: string;
  version: string | null;
  uptime_s: number | null;
  interval_s: number;
  clock_skew_s: number | null;
  problems: string[];
  cameras: EdgeCamera[];
  outbox: { pending: number; dead_letters: number; exporters: Array<{ id: string; pending: number; dead_letters: number }> };
  config: { version: string | null; applied_at: string | null; error: string | null; problems: EdgeConfigProblem[]; current_version: string };
  assigned_cameras: string[];
  /** The access lists the edge decides with, from its last heartbeat (absent from older clouds). */
  lists?: Array<{ id: string; version: string }>;
}
/** `/events/stream` message when an edge's status changes. */
export interface EdgeStatusMessage {
  type: 'edge_status';
  data: { id: string; status: EdgeStatusName; previous: EdgeStatusName | null; at: string; problems: string[] };
}
/** An edge API key (`GET /api-keys`); the key itself only in the create response. */
export interface ApiKey {
  id: string;
  name: string;
  edge_id?: string;
  prefix: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface ScheduleWindow {
  days: Array<'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun'>;
  from: string;
  to: string;
}
/** One plate of an access list (shared/schemas/lists.ts ListEntry). */
export interface ListEntry {
  plate: string;
  label: string | null;
  valid_from: string | null;
  valid_until: string | null;
  schedule: ScheduleWindow[];
  rfid: string | null;
}
/** An access list without its entries (`GET /config/lists`, shared/schemas/lists.ts ListSummary). */
export interface AccessList {
  id: string;
  name: string;
  type: ListType;
  edge_id: string | null;
  camera_ids: string[];
  direction: 'any' | 'in' | 'out';
  match: { mode: 'exact' | 'confusable'; confusable_cost: number; max_distance: number };
  timezone: string | null;
  enabled: boolean;
  entries_count: number;
  version: string;
  created_at: string;
  updated_at: string;
}
/** `GET /config/lists/{id}`: the list and the edges that apply it, current or behind. */
export interface AccessListDetail extends AccessList {
  edges: Array<{ id: string; version: string | null; current: boolean }>;
}
