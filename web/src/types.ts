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
