import type { Command } from '../command.js';
import { int, str } from '../command.js';
import migrate from '../cloud-migrate.js';

const command: Command = {
  name: 'cloud',
  summary: 'Run the cloud service (API, event store, live stream)',
  options: {
    host: { type: 'string', default: '127.0.0.1', description: 'Address to listen on', arg: 'ADDR' },
    port: { type: 'string', default: '8000', description: 'TCP port', arg: 'PORT' },
    'data-dir': { type: 'string', default: './data/cloud', description: 'Database, images and secrets', arg: 'DIR' },
    'public-url': { type: 'string', description: 'Base of the image URLs the service hands out (else ANPR_PUBLIC_URL, else relative URLs)', arg: 'URL' },
    'database-url': { type: 'string', description: 'PostgreSQL database, postgres://USER:PASS@HOST:PORT/DB (else ANPR_DATABASE_URL, else SQLite in DATA_DIR)', arg: 'URL' },
    'images-url': { type: 'string', description: 'Where event images go: a directory or s3://BUCKET/PREFIX (else ANPR_IMAGES_URL, else DATA_DIR/images)', arg: 'URL' },
    'models-mirror': { type: 'string', description: 'Model mirror for POST /recognize (else ANPR_MODELS_MIRROR)', arg: 'DIR' },
  },
  details: [
    'Environment:',
    '  ANPR_ADMIN_USER / ANPR_ADMIN_PASSWORD  first admin, created when there are no users',
    '                                         (a generated password is printed once)',
    '  ANPR_JWT_SECRET                        JWT signing secret (else generated into the data dir)',
    '  ANPR_LOG_LEVEL                         trace|debug|info|warn|error (default info)',
    '  ANPR_LOG_FORMAT                        pretty|json (default: pretty on a terminal, else JSON)',
    '  ANPR_RATE_LIMIT_EVENTS / _CONFIG / _EXPORTERS / _AUTH',
    '                                         requests per minute per edge or user (defaults 1000/100/100/30)',
    '  ANPR_RATE_LIMIT_SESSION                refreshes + sign-outs per minute per address (default 300)',
    '  ANPR_TRUSTED_PROXIES                   reverse proxies (IPs/CIDRs, comma-separated) whose',
    '                                         X-Forwarded-For names the client (default: none)',
    '  ANPR_SQLITE_SYNC                       FULL (default: acknowledged events survive a power cut)',
    '                                         or NORMAL (faster; survives a crash, not a power cut)',
    '  ANPR_MODELS_MIRROR / ANPR_MODELS_DIR   models for POST /recognize (loaded on its first use)',
    '  ANPR_PUBLIC_URL                        base of image URLs, e.g. https://anpr.example.com (default: relative)',
    '  ANPR_MAX_JSON_BYTES                    largest JSON request body (default 65536; larger is 413)',
    '  ANPR_DATABASE_URL                      PostgreSQL instead of SQLite in DATA_DIR (prefer it to --database-url:',
    '                                         a command line with a password is visible to every user)',
    '  ANPR_RETENTION_DAYS                    PostgreSQL: drop events (whole months) and their images older than this',
    '  ANPR_IMAGES_URL                        image store: a directory or s3://BUCKET/PREFIX (default DATA_DIR/images)',
    '  ANPR_S3_ENDPOINT                       an S3-compatible store that is not AWS (MinIO…), e.g. http://127.0.0.1:9000',
    '  AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (, AWS_SESSION_TOKEN)',
    '                                         for s3:// (without keys: the AWS SDK\'s default chain, e.g. an instance role)',
    '',
    'The back-office web app is served at / from web/dist, read-only (written by npm run build).',
  ].join('\n'),
  subcommands: [migrate],
  async run(p) {
    const { startCloud } = await import('../../cloud/server.js');
    const cloud = await startCloud({
      host: str(p, 'host'),
      port: int(p, 'port', 0, 65535),
      dataDir: str(p, 'data-dir')!,
      modelsMirror: str(p, 'models-mirror'),
      publicUrl: str(p, 'public-url'),
      imagesUrl: str(p, 'images-url'),
      databaseUrl: str(p, 'database-url'),
      onAdminCreated: (user, password, generated) => {
        if (generated) process.stdout.write(`Created admin user '${user}' with password: ${password}\n(shown once; change it or set ANPR_ADMIN_PASSWORD before the first start)\n`);
      },
    });
    const { notifyReady, notifyStopping, startWatchdog } = await import('../../shared/systemd-notify.js');
    notifyReady(`listening on ${cloud.url}`);
    // The watchdog is petted only while the database answers.
    const stopWatchdog = startWatchdog(async () => (await cloud.ctx.database.probe(false)).ok);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    notifyStopping();
    stopWatchdog();
    await cloud.close();
  },
};
export default command;
