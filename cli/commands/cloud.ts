import type { Command } from '../command.js';
import { int, str } from '../command.js';

const command: Command = {
  name: 'cloud',
  summary: 'Run the cloud service (API, event store, live stream)',
  options: {
    host: { type: 'string', default: '127.0.0.1', description: 'Address to listen on', arg: 'ADDR' },
    port: { type: 'string', default: '8000', description: 'TCP port', arg: 'PORT' },
    'data-dir': { type: 'string', default: './data/cloud', description: 'Database, images and secrets', arg: 'DIR' },
  },
  details: [
    'Environment:',
    '  ANPR_ADMIN_USER / ANPR_ADMIN_PASSWORD  first admin, created when there are no users',
    '                                         (a generated password is printed once)',
    '  ANPR_JWT_SECRET                        JWT signing secret (else generated into the data dir)',
    '  ANPR_LOG_LEVEL                         trace|debug|info|warn|error (default info)',
  ].join('\n'),
  async run(p) {
    const { startCloud } = await import('../../cloud/server.js');
    const cloud = await startCloud({
      host: str(p, 'host'),
      port: int(p, 'port', 0, 65535),
      dataDir: str(p, 'data-dir')!,
      onAdminCreated: (user, password, generated) => {
        if (generated) process.stdout.write(`Created admin user '${user}' with password: ${password}\n(shown once; change it or set ANPR_ADMIN_PASSWORD before the first start)\n`);
      },
    });
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await cloud.close();
  },
};
export default command;
