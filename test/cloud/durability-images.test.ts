/**
 * Item 16: event images are durable before their row commits (fsync of the file and of its
 * directory after the rename), their writes leave the event loop free, and the startup sweep
 * removes whatever a crash left behind — and nothing an event points to.
 */
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalImageStore } from '../../cloud/images/local-image-store.js';
import { event, makeJpeg, startTestCloud } from './helpers.js';

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

const jpeg = makeJpeg('64x48');

t.test('startup sweep: .tmp files, health probes and images of no event are removed; every stored image and foreign files stay', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'anpr-sweep-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const images = join(dir, 'images');
  let kept: string[] = [];
  {
    const c = await startTestCloud(t, {}, dir);
    for (const id of ['evt-a', 'evt-b']) {
      const fd = new FormData();
      fd.set('event', JSON.stringify(event(id)));
      fd.set('frame', new Blob([new Uint8Array(jpeg)], { type: 'image/jpeg' }), 'f.jpg');
      fd.set('crop', new Blob([new Uint8Array(jpeg)], { type: 'image/jpeg' }), 'c.jpg');
      t.equal((await c.req('/events/ingest', { method: 'POST', key: c.apiKey, body: fd })).status, 202);
    }
    kept = walk(images);
    await c.close();
  }
  t.equal(kept.length, 4);
  const day = join(images, '2023', '12', '15');
  // What a kill -9 leaves: a half-written temp file, the image of an event whose row never
  // committed, the first attempt of an event that a retry then stored, a health probe.
  const orphans = [
    join(day, 'evt-c-frame-0123abcd.jpg.tmp'),
    join(day, 'evt-never-frame-0123abcd.jpg'),
    join(day, 'evt-a-frame-deadbeef.jpg'),
    join(images, '2031', '01', '02', 'evt-a-crop-00000000.png'),
    join(images, '.health-1a2b3c4d'),
  ];
  const foreign = join(images, 'README.txt');
  for (const f of [...orphans, foreign]) {
    mkdirSync(join(f, '..'), { recursive: true });
    writeFileSync(f, jpeg);
  }
  const c = await startTestCloud(t, {}, dir);
  for (const f of orphans) t.notOk(existsSync(f), `removed: ${f.slice(images.length)}`);
  t.ok(existsSync(foreign), 'a file the service did not name is left alone');
  t.same(walk(images).filter((f) => f !== foreign).sort(), kept.sort(), 'every stored image is still there');
  for (const id of ['evt-a', 'evt-b']) {
    const r = await c.req(`/events/${id}/frame`, { token: c.adminToken });
    t.equal(r.status, 200, `${id}: its frame is served`);
    t.same(Buffer.from(await r.arrayBuffer()), jpeg);
  }
});

t.test('save runs off the event loop: the loop turns while a 5 MB image is written and fsynced', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'anpr-img-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const store = new LocalImageStore(join(dir, 'images'), 8 * 1024 * 1024);
  const big = Buffer.alloc(5 * 1024 * 1024, 7);
  big[0] = 0xff;
  big[1] = 0xd8;
  big[2] = 0xff;
  let turns = 0;
  let done = false;
  const spin = () => {
    if (done) return;
    turns++;
    setImmediate(spin);
  };
  setImmediate(spin);
  const rel = await store.save('evt-big', 'frame', big, 'jpg', new Date('2024-02-03T00:00:00Z'));
  done = true;
  t.ok(turns > 0, `the event loop turned ${turns} times during the write`);
  t.same(readFileSync(store.path(rel)), big, 'written whole');
  t.same(walk(join(dir, 'images')).map((f) => f.slice(dir.length)), [`/images/${rel}`], 'no temp file left');
});

const strace = spawnSync('strace', ['-V']).status === 0;
t.test('power cut: file fsync, rename, then fsync of the directory (and of the parents of a new day directory), before save resolves', { skip: !strace && 'strace is not installed' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'anpr-img-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const store = fileURLToPath(new URL('../../cloud/images/local-image-store.ts', import.meta.url));
  const script = `
    const { LocalImageStore } = await import(${JSON.stringify(store)});
    const s = new LocalImageStore(${JSON.stringify(dir + '/images')}, 1 << 20);
    const rel = await s.save('evt-1', 'frame', Buffer.from([0xff, 0xd8, 0xff, 1, 2, 3]), 'jpg', new Date('2024-02-03T00:00:00Z'));
    process.stdout.write('SAVED ' + rel + '\\n');`;
  const log = join(dir, 'strace.txt');
  execFileSync('strace', ['-f', '-qq', '-o', log, '-e', 'trace=openat,fsync,fdatasync,rename,renameat,renameat2,mkdir,mkdirat,close,write', process.execPath, '--import', 'tsx', '--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Follow file descriptors to paths, in syscall order.
  const fds = new Map<string, string>();
  const ops: string[] = [];
  // Threads interleave: a call is split into '<unfinished ...>' and '<... resumed>' lines.
  const started = new Map<string, string>();
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    const pid = /^(\d+)\s+/.exec(line)?.[1] ?? '';
    let body = line.replace(/^\d+\s+/, '');
    if (body.endsWith(' <unfinished ...>')) {
      started.set(pid, body.slice(0, -' <unfinished ...>'.length));
      continue;
    }
    const resumed = /^<\.\.\. \w+ resumed>(.*)$/.exec(body);
    if (resumed) {
      body = (started.get(pid) ?? '') + resumed[1]!;
      started.delete(pid);
    }
    let m = /^openat\(AT_FDCWD, "([^"]+)", [^)]*\)\s+= (\d+)$/.exec(body);
    if (m && m[1]!.startsWith(dir)) fds.set(m[2]!, m[1]!.slice(dir.length));
    m = /^f(?:data)?sync\((\d+)\)\s+= 0$/.exec(body);
    if (m && fds.has(m[1]!)) ops.push(`fsync ${fds.get(m[1]!)}`);
    m = /^rename(?:at2?)?\((?:AT_FDCWD, )?"([^"]+)", (?:AT_FDCWD, )?"([^"]+)"/.exec(body);
    if (m && m[1]!.startsWith(dir)) ops.push(`rename ${m[2]!.slice(dir.length)}`);
    m = /^mkdir(?:at)?\((?:AT_FDCWD, )?"([^"]+)"[^)]*\)\s+= 0$/.exec(body);
    if (m && m[1]!.startsWith(dir)) ops.push(`mkdir ${m[1]!.slice(dir.length)}`);
    m = /^write\(1, "SAVED/.exec(body);
    if (m) ops.push('resolved');
  }
  const at = (op: string) => {
    const i = ops.indexOf(op);
    t.ok(i >= 0, `${op} happens`);
    return i;
  };
  const file = '/images/2024/02/03/';
  const tmpSync = ops.findIndex((o) => o.startsWith(`fsync ${file}evt-1-frame-`) && o.endsWith('.jpg.tmp'));
  const renamed = ops.findIndex((o) => o.startsWith(`rename ${file}evt-1-frame-`));
  t.ok(tmpSync >= 0 && renamed > tmpSync, 'the temp file is fsynced before its rename');
  const dirSync = ops.lastIndexOf('fsync /images/2024/02/03');
  t.ok(dirSync > renamed, 'the directory is fsynced after the rename');
  t.ok(at('resolved') > dirSync, 'save resolves only after the directory fsync');
  t.ok(at('fsync /images') > at('mkdir /images/2024'), 'a new year directory is made durable in its parent');
  t.ok(at('fsync /images/2024') > at('mkdir /images/2024/02'), 'a new month directory too');
  t.ok(at('fsync /images/2024/02') > at('mkdir /images/2024/02/03'), 'a new day directory too');
  if (t.passing() === false) t.comment(ops.join('\n'));
});
