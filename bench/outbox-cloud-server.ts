/** The real cloud for bench/outbox.ts, in its own process, without the per-IP ingest rate limit. Prints `listening PORT KEY`. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCloud } from '../cloud/server.js';
import { silentLogger } from '../shared/log.js';

const cloud = await startCloud({ host: '127.0.0.1', port: 0, dataDir: mkdtempSync(join(tmpdir(), 'anpr-bench-cloud-')), logger: silentLogger, rateLimits: { events: 1e9 } });
const key = (await cloud.ctx.apiKeys.create('bench')).key;
console.log(`listening ${cloud.port} ${key}`);
process.once('SIGTERM', () => void cloud.close().then(() => process.exit(0)));
