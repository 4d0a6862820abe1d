/**
 * Event images in an S3-compatible store (`--images-url s3://BUCKET/PREFIX`), against an
 * S3-protocol server on loopback (s3rver) with the client used against AWS or MinIO.
 */
import t from 'tap';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { startCloud } from '../../cloud/server.js';
import { S3ImageStore } from '../../cloud/images/s3-image-store.js';
import { imagesLocation } from '../../cloud/images/open-image-store.js';
import { silentLogger } from '../../shared/log.js';
import { ADMIN_PASSWORD, event, makeJpeg, startTestCloud, type TestCloud } from './helpers.js';
import { S3_ACCESS_KEY, S3_SECRET_KEY, startS3Server, type S3Server } from '../fixtures/s3-server.js';
import { freePort } from '../fixtures/processes.js';

const BUCKET = 'anpr-images';
const jpeg = makeJpeg('64x48');

const s3Env = (s3: { endpoint: string }, extra: Record<string, string> = {}) => ({
  ANPR_ADMIN_PASSWORD: ADMIN_PASSWORD,
  ANPR_IMAGES_URL: `s3://${BUCKET}/site-a`,
  ANPR_S3_ENDPOINT: s3.endpoint,
  AWS_ACCESS_KEY_ID: S3_ACCESS_KEY,
  AWS_SECRET_ACCESS_KEY: S3_SECRET_KEY,
  ...extra,
});

async function keys(s3: S3Server, prefix = ''): Promise<string[]> {
  const client = s3.client();
  try {
    const r = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix || undefined }));
    return (r.Contents ?? []).map((o) => o.Key!).sort();
  } finally {
    client.destroy();
  }
}

function ingest(c: TestCloud, id: string, images: Array<'frame' | 'crop'>): Promise<Response> {
  const fd = new FormData();
  fd.set('event', JSON.stringify(event(id)));
  for (const k of images) fd.set(k, new Blob([new Uint8Array(jpeg)], { type: 'image/jpeg' }), `${k}.jpg`);
  return c.req('/events/ingest', { method: 'POST', key: c.apiKey, body: fd });
}

t.test('images go to the object store under the prefix and come back through the API; nothing is written to local disk', async (t) => {
  const s3 = await startS3Server([BUCKET]);
  t.teardown(() => s3.close());
  const c = await startTestCloud(t, { env: s3Env(s3) });
  const r = await ingest(c, 'evt-s3-1', ['frame', 'crop']);
  t.equal(r.status, 202, await r.text());

  const stored = await keys(s3);
  t.equal(stored.length, 2);
  t.ok(stored.every((k) => /^site-a\/\d{4}\/\d{2}\/\d{2}\/evt-s3-1-(frame|crop)-[0-9a-f]{8}\.jpg$/.test(k)), stored.join(', '));

  const frame = await c.req('/events/evt-s3-1/frame', { token: c.adminToken });
  t.equal(frame.status, 200);
  t.equal(frame.headers.get('content-type'), 'image/jpeg');
  t.same(Buffer.from(await frame.arrayBuffer()), jpeg, 'the same bytes come back');
  const ev = (await (await c.req('/events/evt-s3-1', { token: c.adminToken })).json()) as { frame_url: string; crop_url: string };
  t.match(ev.frame_url, /\/events\/evt-s3-1\/frame$/);

  t.notOk(existsSync(join(c.dataDir, 'images')) && readdirSync(join(c.dataDir, 'images')).length, 'no image on local disk');

  const health = await c.req('/healthz/detailed', { token: c.adminToken });
  t.equal(health.status, 200);
  const body = (await health.json()) as { components: { storage: { status: string; details: Record<string, unknown> } } };
  t.equal(body.components.storage.status, 'healthy');
  t.match(body.components.storage.details, { backend: 's3', bucket: BUCKET, prefix: 'site-a/', endpoint: s3.endpoint });
  t.notMatch(JSON.stringify(body), new RegExp(S3_SECRET_KEY), 'no credential in health');
});

t.test('a store that cannot take writes: the ingest is a 503 with Retry-After and stores nothing; once it answers, the retry is stored', async (t) => {
  const s3 = await startS3Server([BUCKET]);
  t.teardown(() => s3.close());
  const c = await startTestCloud(t, { env: s3Env(s3) });
  await s3.stop();

  const refused = await ingest(c, 'evt-s3-2', ['frame']);
  t.equal(refused.status, 503);
  t.ok(Number(refused.headers.get('retry-after')) > 0, 'Retry-After');
  t.match(await refused.json(), { error_code: 'SERVICE_UNAVAILABLE', detail: /image store cannot write/ });
  t.equal((await c.req('/events/evt-s3-2', { token: c.adminToken })).status, 404, 'no row without its images');
  const health = await c.req('/healthz');
  t.equal(health.status, 503);
  t.match(((await health.json()) as { components: { storage: { error: string } } }).components.storage.error, /bucket anpr-images/);
  const plain = await c.req('/events/ingest', { method: 'POST', key: c.apiKey, json: event('evt-s3-plain') });
  t.equal(plain.status, 202, 'an event without images does not need the store');

  await s3.start();
  t.equal((await ingest(c, 'evt-s3-2', ['frame'])).status, 202, 'the retry of the same event is stored');
  t.equal((await c.req('/events/evt-s3-2/frame', { token: c.adminToken })).status, 200);
  t.equal((await keys(s3)).length, 1, 'one image: the refused attempt left nothing');
});

t.test('wrong settings stop the start with a message that names the setting, and create nothing', async (t) => {
  const s3 = await startS3Server([BUCKET]);
  t.teardown(() => s3.close());
  const base = mkdtempSync(join(tmpdir(), 'anpr-s3-bad-'));
  t.teardown(() => rmSync(base, { recursive: true, force: true }));
  const start = (env: Record<string, string>, name: string) => startCloud({ port: 0, dataDir: join(base, name), logger: silentLogger, env });
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    ['scheme', s3Env(s3, { ANPR_IMAGES_URL: 'gs://bucket/x' }), /use s3:\/\/BUCKET\/PREFIX.*ANPR_IMAGES_URL/],
    ['bucket-name', s3Env(s3, { ANPR_IMAGES_URL: 's3://A_B/x' }), /valid bucket name/],
    ['no-bucket', s3Env(s3, { ANPR_IMAGES_URL: 's3://nope-bucket/x' }), /bucket nope-bucket does not exist.*ANPR_IMAGES_URL/],
    ['wrong-key', s3Env(s3, { AWS_ACCESS_KEY_ID: 'WRONGKEY' }), /refused the credentials.*AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/],
    ['half-key', { ...s3Env(s3), AWS_SECRET_ACCESS_KEY: '' }, /AWS_SECRET_ACCESS_KEY is missing/],
    ['endpoint', s3Env(s3, { ANPR_S3_ENDPOINT: 'ftp://127.0.0.1:1' }), /ANPR_S3_ENDPOINT must be http/],
    ['region', { ...s3Env(s3), ANPR_S3_ENDPOINT: '' }, /AWS_REGION is required/],
  ];
  for (const [name, env, why] of cases) {
    await t.rejects(start(env, name), { code: 'CONFIG_INVALID', message: why }, name);
    t.notOk(existsSync(join(base, name)), `${name}: no data dir created`);
  }
  for (const [name, env] of cases) t.notMatch(JSON.stringify(await start(env, name).catch((e: Error) => e.message)), new RegExp(S3_SECRET_KEY), `${name}: no secret in the message`);
});

t.test('a store that does not answer at start: the service starts, /healthz is 503 until it answers', async (t) => {
  const port = await freePort();
  const c = await startTestCloud(t, { env: s3Env({ endpoint: `http://127.0.0.1:${port}` }) });
  t.equal((await c.req('/healthz')).status, 503);
  t.equal((await ingest(c, 'evt-s3-3', ['crop'])).status, 503);
  const s3 = await startS3Server([BUCKET], port);
  t.teardown(() => s3.close());
  t.equal((await c.req('/healthz')).status, 200);
  t.equal((await ingest(c, 'evt-s3-3', ['crop'])).status, 202);
});

t.test('the sweep removes orphans old enough never to be in flight; images of stored events, young orphans and foreign keys stay', async (t) => {
  const s3 = await startS3Server([BUCKET]);
  t.teardown(() => s3.close());
  const settings = { bucket: BUCKET, prefix: 'p/', endpoint: s3.endpoint, region: 'us-east-1', credentials: { accessKeyId: S3_ACCESS_KEY, secretAccessKey: S3_SECRET_KEY } };
  const store = new S3ImageStore(settings, 1 << 20);
  t.teardown(() => store.close());
  const when = new Date('2026-11-30T10:00:00Z');
  const mine = await store.save('evt-kept', 'frame', jpeg, 'jpg', when);
  const orphan = await store.save('evt-gone', 'crop', jpeg, 'jpg', when);
  const client = s3.client();
  t.teardown(() => client.destroy());
  await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'p/readme.txt', Body: 'not ours' }));
  await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'other/2026/11/30/evt-gone-frame-00000000.jpg', Body: 'another prefix' }));
  const owned = async (id: string, rel: string) => id === 'evt-kept' && rel === mine;

  const young = await store.sweep(owned);
  t.same(young.removed, [], 'a fresh orphan may still be waiting for its row: kept');
  t.equal(young.kept, 2);

  const old = new S3ImageStore({ ...settings, sweepMinAgeMs: 0 }, 1 << 20);
  t.teardown(() => old.close());
  const swept = await old.sweep(owned);
  t.same(swept.removed, [orphan]);
  t.same(swept.unknown, ['readme.txt']);
  t.same(await keys(s3), ['other/2026/11/30/evt-gone-frame-00000000.jpg', `p/${mine}`, 'p/readme.txt'], 'only the orphan is gone; other prefixes untouched');
  t.equal(await store.open(orphan), null);
  t.equal(await store.open('../../etc/passwd'), null, 'a name the store never writes is not fetched');
});

t.test('images URL settings: directories, file URLs and s3 URLs are parsed; credentials are taken from the environment', async (t) => {
  t.same(imagesLocation(undefined, '/data', {}), { kind: 'local', root: '/data/images' });
  t.same(imagesLocation('/srv/img/', '/data', {}), { kind: 'local', root: '/srv/img' });
  t.same(imagesLocation('file:///srv/img', '/data', {}), { kind: 'local', root: '/srv/img' });
  t.match(imagesLocation('s3://bkt/a/b/', '/data', { AWS_REGION: 'eu-central-1' }), { kind: 's3', settings: { bucket: 'bkt', prefix: 'a/b/', region: 'eu-central-1', endpoint: undefined } });
  const s = imagesLocation('s3://bkt', '/d', { ANPR_S3_ENDPOINT: 'http://127.0.0.1:9000/', AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's' });
  t.match(s, { kind: 's3', settings: { prefix: '', endpoint: 'http://127.0.0.1:9000', region: 'us-east-1', credentials: { accessKeyId: 'k', secretAccessKey: 's' } } });
  t.throws(() => imagesLocation('s3://bkt/../x', '/d', { AWS_REGION: 'x' }), /plain path segments/);
  t.throws(() => imagesLocation('images', '/d', {}), /absolute directory/);
  t.throws(() => imagesLocation('s3://bkt', '/d', { ANPR_S3_ENDPOINT: 'http://u:p@127.0.0.1:9000' }), /must not carry credentials/);
});
