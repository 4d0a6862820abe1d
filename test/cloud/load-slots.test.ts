/** The slot counter behind every load limit, and the settings that size it. */
import t from 'tap';
import { Slots } from '../../cloud/limits/slots.js';
import { DEFAULT_LIMITS, limitsFromEnv } from '../../cloud/limits/settings.js';

t.test('per-key and total caps, a bounded line in arrival order, releases counted once', async (t) => {
  const s = new Slots({ what: 'things', total: 3, perKey: 2, queue: 1, retryAfterS: 7 });
  const a1 = s.tryAcquire('a');
  s.tryAcquire('a');
  t.throws(() => s.tryAcquire('a'), { code: 'CONCURRENCY_LIMIT_EXCEEDED', extra: { limit: 2 } }, 'a third for the same key');
  const b1 = s.tryAcquire('b');
  t.throws(() => s.tryAcquire('c'), { code: 'CONCURRENCY_LIMIT_EXCEEDED', status: 429, retryAfterS: 7 }, 'the total holds');
  const waiting = s.acquire('c');
  await t.rejects(s.acquire('d'), { code: 'CONCURRENCY_LIMIT_EXCEEDED' }, 'the line is full');
  t.equal(s.queued, 1);
  let granted = false;
  void waiting.then(() => (granted = true));
  a1();
  a1();
  const c = await waiting;
  t.ok(granted, 'the waiting caller got the freed slot');
  t.equal(s.inUse, 3, 'a double release freed one slot, not two');
  c();
  b1();
  t.equal(s.inUse, 1);
});

t.test('settings: defaults, overrides, and a clear error for a bad value', async (t) => {
  t.same(limitsFromEnv({}), DEFAULT_LIMITS);
  t.match(limitsFromEnv({ ANPR_EXPORTS_PER_USER: '1', ANPR_FFMPEG_QUEUE: '0', ANPR_PROBE_DENY_LOCAL: 'true' }), { exportsPerUser: 1, ffmpegQueue: 0, probeDenyLocal: true });
  t.throws(() => limitsFromEnv({ ANPR_EXPORTS_TOTAL: '0' }), { code: 'CONFIG_INVALID', message: /ANPR_EXPORTS_TOTAL/ });
  t.throws(() => limitsFromEnv({ ANPR_MAX_IMAGE_PIXELS: '4e7x' }), { code: 'CONFIG_INVALID' });
  t.throws(() => limitsFromEnv({ ANPR_PROBE_DENY_LOCAL: 'maybe' }), { code: 'CONFIG_INVALID', message: /ANPR_PROBE_DENY_LOCAL/ });
});
