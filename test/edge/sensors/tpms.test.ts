/** The TPMS reader: parsing, thresholds, the time window, and a real pty that goes away and comes back. */
import t from 'tap';
import { join } from 'node:path';
import { TpmsReader, parseTpmsLine, tpmsState, type TpmsReading, SensorErrorCode, type SensorNotice } from '../../../edge/sensors/index.js';
import { TpmsConfig } from '../../../shared/schemas/sensor-config.js';
import { TpmsStatus } from '../../../shared/schemas/event.js';
import { tempDir } from '../../fixtures/media.js';
import { waitFor } from '../../fixtures/wait.js';
import { openPeer, startPtyPair } from './pty-pair.js';

const threshold = { pressure_min: 1.8, pressure_max: 2.5, temperature_max: 60 };

t.test('lines: JSON and CSV readings; anything else is not one', async (t) => {
  t.same(parseTpmsLine('{"sensors":4,"pressure":2.1,"temperature":42}'), { sensors: 4, pressure: 2.1, temperature: 42 });
  t.same(parseTpmsLine('{"pressure":2}'), { pressure: 2 });
  t.same(parseTpmsLine('2.1,42'), { pressure: 2.1, temperature: 42 });
  t.same(parseTpmsLine(' 1.5 , -3.5 , 6 '), { pressure: 1.5, temperature: -3.5, sensors: 6 });
  for (const bad of ['', 'hello', '{"temperature":40}', '{"pressure":"2.1"}', '[2.1,40]', '{broken', '2.1', '2.1,40,4,1', '2.1,,4', 'NaN,40', '2.1,40,4.5', '101,20', '2,400', '{"pressure":2,"sensors":-1}', '0x10,20', 'Infinity,1']) {
    t.equal(parseTpmsLine(bad), null, `not a reading: ${JSON.stringify(bad)}`);
  }
});

t.test('thresholds give the status: low, high, hot, ok (the bounds themselves are ok)', async (t) => {
  t.equal(tpmsState({ pressure: 1.7, temperature: 80 }, threshold), 'low_pressure', 'pressure first');
  t.equal(tpmsState({ pressure: 2.6 }, threshold), 'high_pressure');
  t.equal(tpmsState({ pressure: 2.0, temperature: 61 }, threshold), 'high_temperature');
  t.equal(tpmsState({ pressure: 1.8, temperature: 60 }, threshold), 'ok');
  t.equal(tpmsState({ pressure: 2.5 }, threshold), 'ok', 'no temperature: judged on pressure');
});

t.test('the window: readings between two instants, and the status for a pass (its newest fault, else its newest reading)', async (t) => {
  let clock = 1000;
  const r = new TpmsReader(TpmsConfig.parse({ sensor_port: '/dev/null-tpms', threshold }), { now: () => clock });
  const line = (s: string, at: number) => {
    clock = at;
    r.feed(Buffer.from(`${s}\n`));
  };
  line('2.0,30', 1000);
  line('1.2,30', 2000);
  line('2.1,30', 3000);
  line('2.2,30', 4000);
  t.same(r.readingsBetween(2000, 3000).map((x) => x.at), [2000, 3000], 'inclusive at both ends');
  t.same(r.readingsBetween(3500, 3900), []);
  t.same(r.readingsBetween(4000, 1000), [], 'an inverted window is empty');
  t.same(r.statusBetween(1500, 4000), { pressure: 1.2, temperature: 30, status: 'low_pressure' }, 'the fault wins over later ok readings');
  t.same(r.statusBetween(2500, 4000), { pressure: 2.2, temperature: 30, status: 'ok' }, 'no fault: the newest');
  t.equal(r.statusBetween(5000, 6000), null);
  t.ok(TpmsStatus.safeParse(r.statusBetween(0, 5000)).success, "shaped like the event's tpms_status");
});

t.test('a device that never ends its line: the overlong line is dropped and counted, memory stays bounded, the next line is read', async (t) => {
  const readings: TpmsReading[] = [];
  const r = new TpmsReader(TpmsConfig.parse({ sensor_port: '/dev/null-tpms' }), { onReading: (x) => readings.push(x) });
  for (let i = 0; i < 100; i++) r.feed(Buffer.from('9'.repeat(100)));
  r.feed(Buffer.from('9999\n2.0,20\n'));
  t.same(readings.map((x) => x.pressure), [2.0]);
  t.same(r.stats, { readings: 1, bad: 1 });
});

t.test('a real pty: lines split anyhow, CRLF, garbage counted; the device vanishes mid-pass, is reported, reopened, and read again', async (t) => {
  const dir = tempDir(t, 'tpms-');
  const a = join(dir, 'A');
  const b = join(dir, 'B');
  let pty = await startPtyPair(a, b);
  t.teardown(() => pty.stop());
  const readings: TpmsReading[] = [];
  const notices: SensorNotice[] = [];
  const reader = new TpmsReader(TpmsConfig.parse({ sensor_port: a, baudrate: 115200, threshold }), {
    onReading: (r) => readings.push(r),
    onNotice: (n) => notices.push(n),
    backoff: { initialMs: 50, maxMs: 200 },
  });
  t.teardown(() => reader.stop());
  reader.start();
  await waitFor(() => reader.isOpen, 'the reader to open its port');
  let peer = await openPeer(b);
  await peer.write('{"sensors":4,"pressure":2.1,"temperature":42}\r\n1.');
  await peer.write('5,35\nnot a reading\n2.0,70,4\n');
  await waitFor(() => readings.length === 3, 'three readings');
  t.same(readings.map((r) => [r.pressure, r.temperature, r.sensors, r.status]), [
    [2.1, 42, 4, 'ok'],
    [1.5, 35, undefined, 'low_pressure'],
    [2.0, 70, 4, 'high_temperature'],
  ]);
  t.same(reader.stats, { readings: 3, bad: 1 });

  await peer.close();
  await pty.stop(); // unplugged mid-pass
  await waitFor(() => notices.length >= 1, 'the loss to be reported');
  t.match(notices[0], { kind: 'fault', code: SensorErrorCode.PORT_LOST, port: a });
  t.notOk(reader.isOpen);
  t.same(reader.readingsBetween(0, Date.now()).length, 3, 'what was read before stays queryable');

  pty = await startPtyPair(a, b);
  await waitFor(() => notices.some((n) => n.kind === 'recovered'), 'the reopen');
  t.equal(notices.filter((n) => n.kind === 'fault').length, 1, 'one outage, one report (not one per reopen attempt)');
  peer = await openPeer(b);
  t.teardown(() => peer.close());
  await peer.write('2.6,20\n');
  await waitFor(() => readings.length === 4, 'a reading after the reopen');
  t.equal(readings[3]!.status, 'high_pressure', 'read again after the reopen');
});

t.test('a port that does not exist yet: reported once as SENSOR_PORT_UNAVAILABLE, retried until it appears', async (t) => {
  const dir = tempDir(t, 'tpms-');
  const notices: SensorNotice[] = [];
  const readings: TpmsReading[] = [];
  const reader = new TpmsReader(TpmsConfig.parse({ sensor_port: join(dir, 'A') }), { onNotice: (n) => notices.push(n), onReading: (r) => readings.push(r), backoff: { initialMs: 20, maxMs: 100 } });
  t.teardown(() => reader.stop());
  reader.start();
  await waitFor(() => notices.length > 0, 'the fault');
  t.match(notices[0], { kind: 'fault', code: SensorErrorCode.PORT_UNAVAILABLE, message: /cannot open/ });
  const pty = await startPtyPair(join(dir, 'A'), join(dir, 'B'));
  t.teardown(() => pty.stop());
  await waitFor(() => reader.isOpen, 'the reader to open the port once it exists');
  t.same(notices.map((n) => n.kind), ['fault', 'recovered']);
  const peer = await openPeer(pty.b);
  t.teardown(() => peer.close());
  await peer.write('2.0,20\n');
  await waitFor(() => readings.length === 1, 'a reading');
});
