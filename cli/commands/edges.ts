import type { Command } from '../command.js';
import { str } from '../command.js';
import { withCloudData } from '../cloud-data.js';

const dataDir = { type: 'string' as const, default: './data/cloud', description: 'The cloud data dir', arg: 'DIR' };

const command: Command = {
  name: 'edges',
  summary: 'Registered edges (gate boxes), read from the cloud data dir',
  subcommands: [
    {
      name: 'list',
      summary: "List edges, their keys and last heartbeat as stored (the live status: GET /edges; a running cloud writes an unchanged heartbeat at most once a minute)",
      options: { 'data-dir': dataDir, json: { type: 'boolean', description: 'Print JSON' } },
      async run(p) {
        await withCloudData(str(p, 'data-dir')!, async (d) => {
          const keys = (await d.apiKeys.list()).filter((k) => !k.revoked_at);
          const list = (await d.edges.list()).map((e) => {
            const hb = e.heartbeat ? (JSON.parse(e.heartbeat) as { version?: string; health?: string }) : null;
            return {
              id: e.id,
              name: e.name,
              created_at: e.created_at,
              active_keys: keys.filter((k) => k.edge_id === e.id).length,
              last_seen_at: e.last_seen_at === null ? null : new Date(e.last_seen_at).toISOString(),
              version: hb?.version ?? null,
              health: hb?.health ?? null,
            };
          });
          if (p.values.json) {
            console.log(JSON.stringify(list, null, 2));
            return;
          }
          if (!list.length) console.log('No edges. `anpr apikey create EDGE_ID` registers one.');
          for (const e of list) {
            console.log(`${e.id.padEnd(20)}  ${e.name.padEnd(20)}  keys ${e.active_keys}  ${e.last_seen_at ? `last heard ${e.last_seen_at} (${e.version}, ${e.health})` : 'never heard'}`);
          }
        });
      },
    },
  ],
};
export default command;
