/**
 * The cloud service as its own process for the benchmark (args: data dir, then a PostgreSQL
 * database URL when the events are in PostgreSQL, '' or none for SQLite in the data dir, then
 * an images directory when not `<data dir>/images`: replicas share one, bench/replicas.ts).
 */
import { startCloud } from '../cloud/server.js';
import { silentLogger } from '../shared/log.js';

const cloud = await startCloud({
  port: 0,
  dataDir: process.argv[2]!,
  databaseUrl: process.argv[3] || undefined,
  imagesUrl: process.argv[4] || undefined,
  logger: silentLogger,
  env: { ANPR_ADMIN_PASSWORD: 'bench-password' },
  rateLimits: { events: 1e9, config: 1e9, exporters: 1e9, auth: 1e9 },
});
// Edge edge-001: the edge the events of bench/cloud.ts name (an edge's key ingests only its own).
const key = (await cloud.ctx.apiKeys.create('edge-001', `bench-${Date.now()}`)).key;
process.stdout.write(`listening ${cloud.port} ${key}\n`);
process.on('SIGTERM', () => void cloud.close().then(() => process.exit(0)));
