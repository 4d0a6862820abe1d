import type { Command } from '../command.js';
import { positional, str } from '../command.js';
import { AppError } from '../../shared/errors.js';
import { withCloudData } from '../cloud-data.js';

/** Same rule as the users API (cloud/routes/users.ts). */
const MIN_PASSWORD = 8;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

const command: Command = {
  name: 'user',
  summary: 'Administer back-office users on the cloud host (reset a password)',
  subcommands: [
    {
      name: 'reset-password',
      summary: "Set a new password for a user and end the user's sessions; prints a generated one once",
      args: 'NAME',
      options: {
        'data-dir': { type: 'string', default: './data/cloud', description: 'The cloud data dir', arg: 'DIR' },
        'password-stdin': { type: 'boolean', description: 'Read the new password from stdin instead of generating one' },
      },
      details: 'Works while the cloud runs (the next sign-in uses the new password). For a lost first-admin password,\ne.g. the demo\'s: anpr user reset-password admin --data-dir data/demo/cloud',
      async run(p) {
        const name = positional(p, 0, 'NAME');
        const { randomBytes } = await import('node:crypto');
        const given = p.values['password-stdin'] === true;
        const password = given ? await readStdin() : randomBytes(12).toString('base64url');
        if (password.length < MIN_PASSWORD) throw new AppError('VALIDATION_ERROR', `the password must be at least ${MIN_PASSWORD} characters`);
        await withCloudData(str(p, 'data-dir')!, async (d) => {
          if (!(await d.users.get(name))) throw new AppError('RESOURCE_NOT_FOUND', `no user '${name}'`);
          await d.users.setPassword(name, password);
          const { SqliteRefreshTokenStore } = await import('../../cloud/auth/refresh-tokens.js');
          const ended = new SqliteRefreshTokenStore(d.db, 0).revokeUser(name);
          process.stdout.write(`Password of '${name}' reset; ${ended} session(s) ended.${given ? '\n' : ` It is shown once:\n${password}\n`}`);
        });
      },
    },
  ],
};
export default command;
