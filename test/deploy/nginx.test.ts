/**
 * The deployment example (deploy/): the shipped nginx configuration, run by a real nginx in
 * front of two real replicas on one PostgreSQL database and one S3-compatible image store. Through the proxy: a sign-in, an event
 * with a 4 MiB frame (the body limit), the live stream over the WebSocket upgrade, and the loss
 * of one replica (requests go to the other, none fails).
 */
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCloud, type RunningCloud } from '../../cloud/server.js';
import type { PgStreamBus } from '../../cloud/stream/pg-stream-bus.js';
import { silentLogger } from '../../shared/log.js';
import { startPostgresCluster } from '../fixtures/postgres.js';
import { freePort } from '../fixtures/processes.js';
import { S3_ACCESS_KEY, S3_SECRET_KEY, startS3Server } from '../fixtures/s3-server.js';
import { openStream } from '../fixtures/stream-client.js';
import { waitFor } from '../fixtures/wait.js';
import { ADMIN_PASSWORD, event } from '../cloud/helpers.js';

const CONF = fileURLToPath(new URL('../../deploy/nginx/anpr-cloud.conf', import.meta.url));
const NGINX = '/usr/sbin/nginx';

/** Two replicas on one database, and nginx with the shipped configuration in front of them. */
async function deployment(t: Test) {
  const pgc = await startPostgresCluster(t);
  const dir = mkdtempSync(join(tmpdir(), 'anpr-deploy-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // Images in an S3-compatible store, as deploy/ says: a directory shared by running replicas is not safe.
  const s3 = await startS3Server(['anpr-images']);
  t.teardown(() => s3.close());
  const databaseUrl = await pgc.createDatabase();

  async function replica(name: string): Promise<RunningCloud> {
    const cloud = await startCloud({
      port: 0,
      dataDir: mkdtempSync(join(dir, `${name}-`)),
      databaseUrl,
      trustedProxies: ['127.0.0.1'],
      logger: silentLogger,
      env: {
        ANPR_ADMIN_PASSWORD: ADMIN_PASSWORD,
        ANPR_IMAGES_URL: 's3://anpr-images/events',
        ANPR_S3_ENDPOINT: s3.endpoint,
        AWS_ACCESS_KEY_ID: S3_ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY: S3_SECRET_KEY,
      },
    });
    await (cloud.ctx.stream as PgStreamBus).listening();
    return cloud;
  }
  const a = await replica('a');
  const b = await replica('b');
  t.teardown(() => Promise.all([a.close(), b.close()]));

  // The shipped server block, with the test's ports, inside a main configuration of the test's own.
  const port = await freePort();
  const site = readFileSync(CONF, 'utf8')
    .replace('127.0.0.1:8001', `127.0.0.1:${a.port}`)
    .replace('127.0.0.1:8002', `127.0.0.1:${b.port}`)
    .replace('listen 80;', `listen 127.0.0.1:${port};`);
  t.not(site, readFileSync(CONF, 'utf8'), 'the upstreams and the port were found in the file');
  const temp = join(dir, 'nginx');
  mkdirSync(temp);
  chmodSync(dir, 0o755);
  chmodSync(temp, 0o777); // nginx's workers run as nobody when started by root
  writeFileSync(join(temp, 'anpr-cloud.conf'), site);
  writeFileSync(
    join(temp, 'nginx.conf'),
    `daemon off; pid ${temp}/nginx.pid; error_log ${temp}/error.log warn; worker_processes 1;
  events { worker_connections 256; }
  http {
    access_log off;
    client_body_temp_path ${temp}/body; proxy_temp_path ${temp}/proxy;
    fastcgi_temp_path ${temp}/fastcgi; uwsgi_temp_path ${temp}/uwsgi; scgi_temp_path ${temp}/scgi;
    include ${temp}/anpr-cloud.conf;
  }
  `,
  );
  const nginx = spawn(NGINX, ['-p', temp, '-c', join(temp, 'nginx.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let nginxOut = '';
  nginx.stderr.on('data', (d) => (nginxOut += d));
  const exited = new Promise<void>((r) => nginx.once('exit', () => r()));
  t.teardown(async () => {
    nginx.kill('SIGQUIT');
    await exited;
  });
  const proxy = `http://127.0.0.1:${port}`;
  await waitFor(async () => {
    if (nginx.exitCode !== null) throw new Error(`nginx exited (${nginx.exitCode}): ${nginxOut}${readFileSync(join(temp, "error.log"), "utf8")}`);
    return fetch(`${proxy}/healthz`).then((r) => r.status === 200, () => false);
  }, 'nginx answering with a replica behind it');
  return { a, b, proxy };
}

const json = { 'content-type': 'application/json' };

t.test('through the proxy: sign-in, a large event, the live stream, and the loss of a replica', async (t) => {
  const { a, proxy } = await deployment(t);
  const signIn = await fetch(`${proxy}/auth/token`, { method: 'POST', headers: json, body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }) });
  t.equal(signIn.status, 200, 'sign-in');
  const token = ((await signIn.json()) as { access_token: string }).access_token;
  const key = (await a.ctx.apiKeys.create('edge-001', 'gate')).key;

  const sub = await openStream(proxy, `token=${token}`);
  t.teardown(() => sub.ws.close());

  const frame = Buffer.alloc(4 * 1024 * 1024, 7);
  frame.set([0xff, 0xd8, 0xff], 0);
  const fd = new FormData();
  fd.set('event', JSON.stringify(event('via-proxy')));
  fd.set('frame', new Blob([frame], { type: 'image/jpeg' }), 'frame.jpg');
  const ingest = await fetch(`${proxy}/events/ingest`, { method: 'POST', headers: { 'x-api-key': key }, body: fd });
  t.equal(ingest.status, 202, 'an event with a 4 MiB frame passes the proxy');
  await waitFor(() => sub.messages.some((m) => m.data?.event_id === 'via-proxy'), 'the event on the stream through the proxy');
  const back = await fetch(`${proxy}/events/via-proxy/frame`, { headers: { authorization: `Bearer ${token}` } });
  t.same(Buffer.from(await back.arrayBuffer()), frame, 'its frame served back byte for byte');

  await a.close();
  const statuses: number[] = [];
  for (let i = 0; i < 10; i++) statuses.push((await fetch(`${proxy}/events?limit=1`, { headers: { authorization: `Bearer ${token}` } })).status);
  t.same(statuses, Array(10).fill(200), 'replica A gone: every request answered by B');
  // A subscriber whose replica went away connects again through the proxy, to the other.
  const again = await openStream(proxy, `token=${token}`);
  t.teardown(() => again.ws.close());
  t.equal((await fetch(`${proxy}/events/ingest`, { method: 'POST', headers: { ...json, 'x-api-key': key }, body: JSON.stringify(event('after-a')) })).status, 202, 'and ingest goes on');
  await waitFor(() => again.messages.some((m) => m.data?.event_id === 'after-a'), 'the event on the new stream');
  t.pass('a stream opened again reaches the remaining replica');
});
