/**
 * The serial (LCUS) relay through the BarrierController, against real pseudo-terminals: socat
 * joins the port the relay opens (A) to the one this test plays the board on (B).
 */
import t from 'tap';
import { join } from 'node:path';
import { BarrierController, lcusCommand, RelayErrorCode, type RelayNotice } from '../../../edge/relays/index.js';
import { tempDir } from '../../fixtures/media.js';
import { openPeer, startPtyPair } from '../sensors/pty-pair.js';

const hex = (b: Buffer) => b.toString('hex').match(/../g)!.join(' ');

t.test('lcus command bytes: A0, channel, 01 on / 00 off, checksum = sum & 0xFF', async (t) => {
  t.equal(hex(lcusCommand(1, true)), 'a0 01 01 a2');
  t.equal(hex(lcusCommand(1, false)), 'a0 01 00 a1');
  t.equal(hex(lcusCommand(2, true)), 'a0 02 01 a3');
  t.equal(hex(lcusCommand(8, false)), 'a0 08 00 a8');
});

t.test('a pulse writes on, holds the pulse, then writes off', async (t) => {
  const dir = tempDir(t, 'relay-serial-');
  const pty = await startPtyPair(join(dir, 'A'), join(dir, 'B'));
  t.teardown(() => pty.stop());
  const peer = await openPeer(pty.b);
  t.teardown(() => peer.close());
  const ctl = new BarrierController();
  t.teardown(() => ctl.close());
  const sensor = { id: 'gate', type: 'barrier', config: { relay: { kind: 'serial', port: pty.a, channel: 2 }, pulse_duration_ms: 400 } };

  const res = await ctl.open('pass-1', sensor);
  t.match(res, { ok: true, attempts: 1 });
  t.type(res.sent_at, 'number');
  const bytes = await peer.waitBytes(8);
  t.equal(hex(bytes), 'a0 02 01 a3 a0 02 00 a2', 'on, then off, of channel 2');
  const onAt = peer.chunks[0]!.at;
  const offChunk = peer.chunks.find((c, i) => i > 0 || c.bytes.length > 4)!;
  t.equal(peer.chunks[0]!.bytes.length, 4, 'the off-bytes did not come with the on-bytes');
  // A lower bound only (the relay may be late, never early); 100 ms slack for event-loop jitter.
  t.ok(offChunk.at - onAt >= 300, `off ${offChunk.at - onAt} ms after on: the pulse lies between them`);
});

t.test('two passes through one board pulse one after the other, never interleaved', async (t) => {
  const dir = tempDir(t, 'relay-serial-');
  const pty = await startPtyPair(join(dir, 'A'), join(dir, 'B'));
  t.teardown(() => pty.stop());
  const peer = await openPeer(pty.b);
  t.teardown(() => peer.close());
  const ctl = new BarrierController();
  t.teardown(() => ctl.close());
  const sensor = { id: 'gate', type: 'barrier', config: { relay: { kind: 'serial', port: pty.a }, pulse_duration_ms: 100 } };
  const [a, b] = await Promise.all([ctl.open('pass-a', sensor), ctl.open('pass-b', sensor)]);
  t.ok(a.ok && b.ok);
  const on = hex(lcusCommand(1, true));
  const off = hex(lcusCommand(1, false));
  t.equal(hex(await peer.waitBytes(16)), [on, off, on, off].join(' '));
});

t.test('the board vanishes mid-pulse: a failed result, reported, no crash; back again, it is reopened and the relay opened first', async (t) => {
  const dir = tempDir(t, 'relay-serial-');
  const a = join(dir, 'A');
  const b = join(dir, 'B');
  let pty = await startPtyPair(a, b);
  t.teardown(() => pty.stop());
  const notices: RelayNotice[] = [];
  const ctl = new BarrierController({ onNotice: (_id, n) => notices.push(n), budgetMs: 800 });
  t.teardown(() => ctl.close());
  const pulseMs = 5000;
  const sensor = { id: 'gate', type: 'barrier', config: { relay: { kind: 'serial', port: a }, pulse_duration_ms: pulseMs } };

  const peer = await openPeer(b);
  const started = Date.now();
  const opening = ctl.open('pass-1', sensor);
  t.equal(hex(await peer.waitBytes(4)), hex(lcusCommand(1, true)), 'the on-bytes went out');
  await peer.close();
  await pty.stop(); // unplugged while the relay is closed

  const res = await opening;
  t.equal(res.ok, false);
  t.ok(res.attempts >= 2, `retried (${res.attempts} attempts)`);
  t.ok(res.error && [RelayErrorCode.SERIAL_LOST, RelayErrorCode.SERIAL_UNAVAILABLE].includes(res.error.code as never), `error ${res.error?.code}: ${res.error?.message}`);
  t.ok(Date.now() - started < pulseMs, 'the loss ended the pulse; the result did not wait for its timer');
  t.match(notices[0], { kind: 'fault', code: RelayErrorCode.SERIAL_LOST }, 'the loss was reported');
  t.same(await ctl.open('pass-1', sensor), res, 'the same pass does not try again');

  pty = await startPtyPair(a, b);
  const back = await openPeer(b);
  t.teardown(() => back.close());
  const res2 = await ctl.open('pass-2', { ...sensor, config: { ...sensor.config, pulse_duration_ms: 100 } });
  t.match(res2, { ok: true, attempts: 1 });
  const off = hex(lcusCommand(1, false));
  t.equal(hex(await back.waitBytes(12)), [off, hex(lcusCommand(1, true)), off].join(' '), 'off first (the lost pulse left the relay closed), then the pulse');
  t.match(notices.at(-1), { kind: 'recovered' }, 'the reopen was reported');
});

t.test('a port that does not exist: RELAY_SERIAL_UNAVAILABLE, reported, nothing thrown', async (t) => {
  const dir = tempDir(t, 'relay-serial-');
  const notices: RelayNotice[] = [];
  const ctl = new BarrierController({ onNotice: (_id, n) => notices.push(n), budgetMs: 300, retryDelayMs: 10 });
  t.teardown(() => ctl.close());
  const res = await ctl.open('p', { id: 'gate', config: { relay: { kind: 'serial', port: join(dir, 'ttyUSB9') } } });
  t.match(res, { ok: false, error: { code: RelayErrorCode.SERIAL_UNAVAILABLE } });
  t.match(res.error!.message, /ttyUSB9.*cannot open/);
  t.equal(notices.filter((n) => n.kind === 'fault').length, 1, 'reported once, not once per try');
});
