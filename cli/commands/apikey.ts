import type { Command } from '../command.js';
import { positional, str } from '../command.js';
import { AppError } from '../../shared/errors.js';

const dataDir = { type: 'string' as const, default: './data/cloud', description: 'The cloud data dir', arg: 'DIR' };

async function open(p: Parameters<NonNullable<Command['run']>>[0]) {
  const { openCloudData } = await import('../../cloud/server.js');
  return openCloudData(str(p, 'data-dir')!);
}

const command: Command = {
  name: 'apikey',
  summary: 'Manage edge API keys (create, list, revoke)',
  subcommands: [
    {
      name: 'create',
      summary: 'Create an API key for an edge; prints it once, as the last line',
      args: 'NAME',
      options: { 'data-dir': dataDir },
      async run(p) {
        const name = positional(p, 0, 'NAME');
        const d = await open(p);
        try {
          const { key, info } = d.apiKeys.create(name);
          process.stdout.write(`Created API key ${info.id} '${info.name}'. It is shown once; only its hash is stored:\n${key}\n`);
        } finally {
          d.db.close();
        }
      },
    },
    {
      name: 'list',
      summary: 'List API keys (never the keys themselves)',
      options: { 'data-dir': dataDir, json: { type: 'boolean', description: 'Print JSON' } },
      async run(p) {
        const d = await open(p);
        try {
          const keys = d.apiKeys.list();
          if (p.values.json) {
            console.log(JSON.stringify(keys, null, 2));
            return;
          }
          if (!keys.length) console.log('No API keys.');
          for (const k of keys) {
            console.log(`${k.id}  ${k.name.padEnd(20)}  ${k.prefix}…  created ${k.created_at}  ${k.revoked_at ? `REVOKED ${k.revoked_at}` : `last used ${k.last_used_at ?? 'never'}`}`);
          }
        } finally {
          d.db.close();
        }
      },
    },
    {
      name: 'revoke',
      summary: 'Revoke an API key by id or name',
      args: 'ID|NAME',
      options: { 'data-dir': dataDir },
      async run(p) {
        const which = positional(p, 0, 'ID|NAME');
        const d = await open(p);
        try {
          const n = d.apiKeys.revoke(which);
          if (n === 0) throw new AppError('RESOURCE_NOT_FOUND', `no active API key with id or name '${which}'`);
          console.log(`Revoked ${n} key(s). A running service stops accepting them within 5 seconds.`);
        } finally {
          d.db.close();
        }
      },
    },
  ],
};
export default command;
