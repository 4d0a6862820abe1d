/** Camera and zone names for labels and selects (one request each per page). */
import { api } from './api.js';
import type { Page, Resource } from './types.js';

export async function listAll(kind: string): Promise<Resource[]> {
  const out: Resource[] = [];
  for (let skip = 0; ; skip += 1000) {
    const p = await api<Page<Resource>>('GET', `/config/${kind}`, { query: { skip, limit: 1000 } });
    out.push(...p.items);
    if (out.length >= p.total || p.items.length === 0) return out;
  }
}

export async function cameraNames(): Promise<Map<string, string>> {
  try {
    return new Map((await listAll('cameras')).map((c) => [c.id, String(c.name ?? c.id)]));
  } catch {
    return new Map();
  }
}

export async function zoneNames(): Promise<Map<string, string>> {
  try {
    return new Map((await listAll('zones')).map((z) => [z.id, String(z.name ?? z.id)]));
  } catch {
    return new Map();
  }
}
