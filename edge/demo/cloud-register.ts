/**
 * Puts the demo's camera, MQTT exporter, barrier and access lists into the demo's cloud through
 * the cloud's own config API, for the demo's edge: they show on the Config and Edges pages, and the edge takes them from
 * the cloud (cloud sync) as a gate box in the field does, rather than from its local file.
 *
 * It signs in as the demo's admin (demo-admin.ts): only HTTP and the `anpr` commands, never the
 * cloud's internals.
 */
export interface DemoItems {
  cameras: Array<Record<string, unknown> & { id: string }>;
  exporters: Array<Record<string, unknown> & { id: string }>;
  sensors?: Array<Record<string, unknown> & { id: string }>;
  /** Access lists with their entries (`/config/lists`; entries replaced under `/entries`). */
  lists?: Array<Record<string, unknown> & { id: string; entries: unknown[] }>;
}

async function call(url: string, token: string, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** An admin's access token, or null when the cloud refuses these credentials. */
export async function signIn(url: string, user: string, password: string): Promise<string | null> {
  const r = await fetch(`${url}/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: user, password }) });
  if (r.status === 401) return null;
  if (!r.ok) throw new Error(`demo: signing in to the cloud as ${user} failed: HTTP ${r.status} ${await r.text()}`);
  return ((await r.json()) as { access_token: string }).access_token;
}

/** Creates or updates (same id) each item in the cloud at `url`. */
export async function registerDemoItems(url: string, token: string, items: DemoItems): Promise<void> {
  for (const kind of ['cameras', 'exporters', 'sensors'] as const) {
    for (const item of items[kind] ?? []) {
      const path = `/config/${kind}/${encodeURIComponent(item.id)}`;
      const exists = (await call(url, token, 'GET', path)).status === 200;
      const { id: _id, ...rest } = item;
      const res = exists ? await call(url, token, 'PUT', path, rest) : await call(url, token, 'POST', `/config/${kind}`, item);
      if (!res.ok) throw new Error(`demo: ${exists ? 'updating' : 'creating'} ${kind} ${item.id} in the cloud failed: HTTP ${res.status} ${await res.text()}`);
    }
  }
  for (const list of items.lists ?? []) {
    const path = `/config/lists/${encodeURIComponent(list.id)}`;
    const exists = (await call(url, token, 'GET', path)).status === 200;
    const { id: _id, entries, ...fields } = list;
    const res = exists ? await call(url, token, 'PUT', path, fields) : await call(url, token, 'POST', '/config/lists', list);
    if (!res.ok) throw new Error(`demo: ${exists ? 'updating' : 'creating'} list ${list.id} in the cloud failed: HTTP ${res.status} ${await res.text()}`);
    if (!exists) continue;
    const put = await call(url, token, 'PUT', `${path}/entries`, { entries });
    if (!put.ok) throw new Error(`demo: replacing the entries of list ${list.id} failed: HTTP ${put.status} ${await put.text()}`);
  }
}
