import t from 'tap';
import { scoreLive, type Arrival, type PhotoSlot } from '../../../edge/recognize/live-eval/score.js';

// Stream time 0 at 1_000_000; 2 s of black, then three photos of 3 s each, then black.
const T0 = 1_000_000;
const at = (s: number) => T0 + s * 1000;
const photos: PhotoSlot[] = [
  { file: 'us/a.jpg', region: 'us', plate: 'ABC123', shownAtMs: at(2), nextAtMs: at(5) },
  { file: 'us/b.jpg', region: 'us', plate: 'XYZ789', shownAtMs: at(5), nextAtMs: at(8) },
  { file: 'br/c.jpg', region: 'br', plate: 'BRA2E19', shownAtMs: at(8), nextAtMs: at(11) },
];
const ev = (id: string, plate: string, arrivedS: number, extra: Partial<Arrival> = {}): Arrival => ({ eventId: id, plate, arrivedAtMs: at(arrivedS), via: 'stream', ...extra });
const opts = { slackMs: 5000, originMs: T0 };

t.test('an event with the label arriving while the photo or the next one is on screen (+ slack) is exact; latency from the first frame', async (t) => {
  const s = scoreLive(photos, [ev('1', 'abc-123', 6.5), ev('2', 'XYZ 789', 9.25), ev('3', 'BRA2E19', 15.5)], opts);
  t.equal(s.images, 3);
  t.equal(s.exact_n, 3);
  t.equal(s.exact, 1);
  t.same(s.photos.map((p) => p.latency_ms), [4500, 4250, 7500]);
  t.same(s.latency_ms, { p50: 4500, p95: 7500 });
  t.equal(s.extras, 0);
  t.equal(s.duplicates, 0);
  t.same(s.photos[0], { file: 'us/a.jpg', region: 'us', expected: 'ABC123', shown_at_s: 2, read: true, latency_ms: 4500, duplicates: 0, other_reads: [] });
});

t.test('too early or too late is not a read of that photo: it is an extra', async (t) => {
  // Before photo a appeared (a replayed stream, a stale track), and after b's window closed.
  const s = scoreLive(photos, [ev('1', 'ABC123', 1.5), ev('2', 'XYZ789', 13.5)], opts);
  t.equal(s.exact_n, 0);
  t.same(s.photos.map((p) => p.read), [false, false, false]);
  t.equal(s.extras, 2);
  t.same(s.extra_events.map((e) => [e.plate, e.on_screen_at_arrival]), [['ABC123', 'lead-in'], ['XYZ789', 'trailer']]);
  t.equal(s.latency_ms, null, 'no latency without a read');
});

t.test('misreads are extras, attributed to the photo on screen at capture and listed as its other reads', async (t) => {
  const s = scoreLive(
    photos,
    [
      ev('1', 'ABC123', 6),
      ev('2', 'XYZ78', 7, { capturedAtMs: at(6.2), confidence: 0.7 }), // a partial read of b
      ev('3', 'BRA2E1S', 12, { capturedAtMs: at(9) }), // a misread of c
      ev('4', 'QQQ111', 12.5), // no capture time: the photo on screen at arrival (trailer)
    ],
    opts,
  );
  t.equal(s.exact_n, 1);
  t.equal(s.extras, 3);
  t.match(s.extra_events[0], { plate: 'XYZ78', event_id: '2', arrived_at_s: 7, captured_at_s: 6.2, confidence: 0.7, on_screen_at_arrival: 'us/b.jpg', on_screen_at_capture: 'us/b.jpg', via: 'stream' });
  t.same(s.photos.map((p) => p.other_reads), [[], ['XYZ78'], ['BRA2E1S']]);
  t.equal(s.extra_events[2].on_screen_at_capture, null);
  t.equal(s.extra_events[2].on_screen_at_arrival, 'trailer');
  t.same(
    Object.fromEntries(Object.entries(s.per_region).map(([r, x]) => [r, x.extras])),
    { us: 1, br: 1 },
    'extras per region by the photo they were read from; the trailer one counts only in the total',
  );
});

t.test('the same label again within the photo window is a duplicate, not a second read nor an extra', async (t) => {
  const s = scoreLive(photos, [ev('1', 'ABC123', 4), ev('2', 'ABC123', 6), ev('3', 'ABC123', 9.5, { via: 'rest' })], opts);
  t.equal(s.exact_n, 1);
  t.equal(s.photos[0].latency_ms, 2000, 'the first arrival gives the latency');
  t.equal(s.duplicates, 2);
  t.equal(s.photos[0].duplicates, 2);
  t.same(s.duplicate_events.map((d) => [d.event_id, d.file, d.arrived_at_s]), [['2', 'us/a.jpg', 6], ['3', 'us/a.jpg', 9.5]]);
  t.equal(s.extras, 0);
});

t.test('arrival order decides, not the order events are listed in', async (t) => {
  const s = scoreLive(photos, [ev('late', 'ABC123', 7), ev('early', 'ABC123', 3)], opts);
  t.equal(s.photos[0].latency_ms, 1000);
  t.same(s.duplicate_events.map((d) => d.event_id), ['late']);
});

t.test('per region: images, exact, duplicates and latency', async (t) => {
  const s = scoreLive(photos, [ev('1', 'ABC123', 5), ev('2', 'ABC123', 5.5), ev('3', 'BRA2E19', 10)], opts);
  t.same(s.per_region.us, { images: 2, exact_n: 1, exact: 0.5, extras: 0, duplicates: 1, latency_ms: { p50: 3000, p95: 3000 } });
  t.same(s.per_region.br, { images: 1, exact_n: 1, exact: 1, extras: 0, duplicates: 0, latency_ms: { p50: 2000, p95: 2000 } });
  t.equal(s.exact, 0.6667);
});

t.test('two photos with the same label: each window gets its own read', async (t) => {
  const same: PhotoSlot[] = [
    { file: 'eu/x.jpg', region: 'eu', plate: 'AB12CDE', shownAtMs: at(2), nextAtMs: at(5) },
    { file: 'eu/y.jpg', region: 'eu', plate: 'AB12CDE', shownAtMs: at(5), nextAtMs: at(8) },
  ];
  const s = scoreLive(same, [ev('1', 'AB12CDE', 6), ev('2', 'AB12CDE', 9)], opts);
  t.same(s.photos.map((p) => p.latency_ms), [4000, 4000]);
  t.equal(s.duplicates, 0);
});

t.test('no photos, no events', async (t) => {
  const s = scoreLive([], [], opts);
  t.match(s, { images: 0, exact_n: 0, exact: 0, extras: 0, duplicates: 0, latency_ms: null, per_region: {} });
});
