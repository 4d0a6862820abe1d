import type { Command } from '../command.js';
import { positional, str, type Parsed } from '../command.js';
import { AppError } from '../../shared/errors.js';
import { withCloudData, type CloudData } from '../cloud-data.js';

const dataDir = { type: 'string' as const, default: './data/cloud', description: 'The cloud data dir', arg: 'DIR' };

/** Runs `fn` with the data dir's key store open; a dir without a cloud database is refused. */
function withKeys<T>(p: Parsed, fn: (keys: CloudData['apiKeys']) => T): Promise<T> {
  return withCloudData(str(p, 'data-dir')!, (d) => fn(d.apiKeys));
}

const command: Command = {
  name: 'apikey',
  summary: 'Manage edge API keys (create, list, revoke)',
  subcommands: [
    {
      name: 'create',
      summary: 'Create an API key for edge EDGE_ID (registered now if new); prints it once, as the last line',
      args: 'EDGE_ID',
      options: { 'data-dir': dataDir, name: { type: 'string', description: 'Name of the key (default: the edge id)', arg: 'NAME' } },
      async run(p) {
        const edgeId = positional(p, 0, 'EDGE_ID');
        await withKeys(p, async (keys) => {
          const { key, info } = await keys.create(edgeId, str(p, 'name') ?? edgeId.replace(/[^A-Za-z0-9._ -]/g, '-').slice(0, 64));
          process.stdout.write(`Created API key ${info.id} '${info.name}' for edge '${info.edge_id}'. It is shown once; only its hash is stored:\n${key}\n`);
        });
      },
    },
    {
      name: 'list',
      summary: 'List API keys (never the keys themselves)',
      options: { 'data-dir': dataDir, json: { type: 'boolean', description: 'Print JSON' } },
      async run(p) {
        await withKeys(p, async (keys) => {
          const list = await keys.list();
          if (p.values.json) {
            console.log(JSON.stringify(list, null, 2));
            return;
          }
          if (!list.length) console.log('No API keys.');
          for (const k of list) {
            console.log(`${k.id}  ${k.name.padEnd(20)}  edge ${k.edge_id.padEnd(20)}  ${k.prefix}…  created ${k.created_at}  ${k.revoked_at ? `REVOKED ${k.revoked_at}` : `last used ${k.last_used_at ?? 'never'}`}`);
          }
        });
      },
    },
    {
      name: 'revoke',
      summary: 'Revoke an API key by id or name',
      args: 'ID|NAME',
      options: { 'data-dir': dataDir },
      async run(p) {
        const which = positional(p, 0, 'ID|NAME');
        await withKeys(p, async (keys) => {
          const n = await keys.revoke(which);
          if (n === 0) throw new AppError('RESOURCE_NOT_FOUND', `no active API key with id or name '${which}'`);
          console.log(`Revoked ${n} key(s). A running service stops accepting them within 5 seconds.`);
        });
      },
    },
  ],
};
export default command;
