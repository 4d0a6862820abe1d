/**
 * Retention removes the images of whole past days (the PostgreSQL backend calls it after it
 * drops months of events): every image of a day that ended at or before the cutoff goes, the
 * later days and entries the store did not name stay. Same behaviour for local and S3 stores.
 */
import t, { type Test } from 'tap';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalImageStore } from '../../cloud/images/local-image-store.js';
import { S3ImageStore } from '../../cloud/images/s3-image-store.js';
import type { ImageStore } from '../../cloud/images/image-store.js';
import { makeJpeg } from './helpers.js';
import { S3_ACCESS_KEY, S3_SECRET_KEY, startS3Server } from '../fixtures/s3-server.js';

const jpeg = new Uint8Array(makeJpeg());
const CUTOFF = Date.parse('2026-10-01T00:00:00Z');

async function scenario(t: Test, store: ImageStore) {
  const old1 = await store.save('e-old-1', 'frame', jpeg, 'jpg', new Date('2026-09-15T12:00:00Z'));
  const old2 = await store.save('e-old-2', 'crop', jpeg, 'jpg', new Date('2026-09-30T23:59:59.999Z'));
  const kept = await store.save('e-kept', 'frame', jpeg, 'jpg', new Date('2026-10-01T00:00:00Z'));
  t.equal(await store.removeDaysBefore(CUTOFF), 2, 'the two images of days ended by the cutoff');
  t.equal(await store.open(old1), null);
  t.equal(await store.open(old2), null, 'the last millisecond of the last day before the cutoff');
  t.ok(await store.open(kept), 'the first day after the cutoff stays');
  t.equal(await store.removeDaysBefore(CUTOFF), 0, 'a second run removes nothing');
}

t.test('local store', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'anpr-ret-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const store = new LocalImageStore(dir, 1 << 20);
  mkdirSync(join(dir, 'backups'));
  writeFileSync(join(dir, 'backups', 'note.txt'), 'not ours');
  await scenario(t, store);
  t.ok(existsSync(join(dir, 'backups', 'note.txt')), 'an entry the store did not name stays');
});

t.test('S3 store', async (t) => {
  const s3 = await startS3Server(['ret']);
  t.teardown(() => s3.close());
  const store = new S3ImageStore({ bucket: 'ret', prefix: 'p/', endpoint: s3.endpoint, region: 'us-east-1', credentials: { accessKeyId: S3_ACCESS_KEY, secretAccessKey: S3_SECRET_KEY } }, 1 << 20);
  t.teardown(() => store.close());
  await scenario(t, store);
});
