/** The RFID reader: line tags, RDM6300 framing (checksums, resync), over real ptys. */
import t from 'tap';
import { join } from 'node:path';
import { RfidReader, Rdm6300Framer, parseRfidLine, rdm6300Checksum, rdm6300Frame, type RfidReading, type SensorNotice, SensorErrorCode } from '../../../edge/sensors/index.js';
import { RfidConfig } from '../../../shared/schemas/sensor-config.js';
import { tempDir } from '../../fixtures/media.js';
import { waitFor } from '../../fixtures/wait.js';
import { openPeer, startPtyPair } from './pty-pair.js';

t.test('line tags: printable ASCII, trimmed, 1-64 characters', async (t) => {
  t.equal(parseRfidLine('  04A2B3C4D5 '), '04A2B3C4D5');
  t.equal(parseRfidLine('0004 123456'), '0004 123456');
  t.equal(parseRfidLine(''), null);
  t.equal(parseRfidLine('x'.repeat(65)), null);
  t.equal(parseRfidLine('tag\u00ff'), null, 'not ASCII');
  t.equal(parseRfidLine('a\u0007b'), null, 'control character');
});

t.test('rdm6300 frames: the checksum is the XOR of the 5 bytes; a bad one is dropped and counted', async (t) => {
  // Version byte 0x0A, card number 0x00123456: five bytes, ten hex digits.
  const tag = '0A00123456';
  t.equal(rdm6300Checksum(tag), 0x0a ^ 0x00 ^ 0x12 ^ 0x34 ^ 0x56);
  const f = new Rdm6300Framer();
  t.same(f.push(rdm6300Frame(tag)), [tag]);
  t.same(f.push(rdm6300Frame(tag, rdm6300Checksum(tag) ^ 0x01)), [], 'bad checksum');
  t.equal(f.bad, 1);
  t.same(f.push(rdm6300Frame('0a00123456')), ['0A00123456'], 'lower-case digits read as upper case');
});

t.test('rdm6300 frames split across chunks, noise between them, and a broken frame: resynchronised on the next STX', async (t) => {
  const f = new Rdm6300Framer();
  const a = rdm6300Frame('1122334455');
  const b = rdm6300Frame('66778899AA');
  const broken = Buffer.concat([Buffer.from([0x02]), Buffer.from('1234', 'latin1')]); // cut short: the next frame starts inside it
  const stream = Buffer.concat([Buffer.from('noise\r\n', 'latin1'), a, Buffer.from([0x00, 0xff]), broken, b]);
  const tags: string[] = [];
  for (const byte of stream) tags.push(...f.push(Buffer.from([byte])));
  t.same(tags, ['1122334455', '66778899AA'], 'both good frames, one byte at a time');
  t.equal(f.bad, 1, 'the broken frame counted');
  t.same(f.push(Buffer.from([0x02, 0x31])), [], 'a partial frame waits for the rest');
});

const startReader = async (t: { teardown(fn: () => unknown): void }, format: 'line' | 'rdm6300') => {
  const dir = tempDir(t, 'rfid-');
  const pty = await startPtyPair(join(dir, 'A'), join(dir, 'B'));
  t.teardown(() => pty.stop());
  const readings: RfidReading[] = [];
  const notices: SensorNotice[] = [];
  const reader = new RfidReader(RfidConfig.parse({ sensor_port: pty.a, format }), { onReading: (r) => readings.push(r), onNotice: (n) => notices.push(n), backoff: { initialMs: 20, maxMs: 100 } });
  t.teardown(() => reader.stop());
  reader.start();
  await waitFor(() => reader.isOpen, 'the reader to open its port');
  const peer = await openPeer(pty.b);
  t.teardown(() => peer.close());
  return { pty, peer, reader, readings, notices };
};

t.test('an RDM6300 on a real pty: good frames read, the bad checksum dropped and counted', async (t) => {
  const { peer, reader, readings } = await startReader(t, 'rdm6300');
  const before = Date.now();
  await peer.write(Buffer.concat([rdm6300Frame('0A00123456'), rdm6300Frame('0A00123456', 0x00), rdm6300Frame('0B0000FF01')]));
  await waitFor(() => readings.length === 2, 'two tags');
  t.same(readings.map((r) => r.tag), ['0A00123456', '0B0000FF01']);
  t.same(reader.stats, { readings: 2, bad: 1 });
  t.same(reader.readingsBetween(before, Date.now()).map((r) => r.tag), ['0A00123456', '0B0000FF01'], 'in the window of the pass');
  t.same(reader.readingsBetween(0, before - 1), []);
});

t.test('a line reader on a real pty: one tag per line; non-ASCII lines dropped; the device unplugged is reported', async (t) => {
  const { peer, pty, reader, readings, notices } = await startReader(t, 'line');
  await peer.write(Buffer.concat([Buffer.from('TAG-0001\r\n', 'latin1'), Buffer.from([0xc3, 0xa9, 0x0a]), Buffer.from('  TAG-0002  \n', 'latin1')]));
  await waitFor(() => readings.length === 2, 'two tags');
  t.same(readings.map((r) => r.tag), ['TAG-0001', 'TAG-0002']);
  t.same(reader.stats, { readings: 2, bad: 1 });
  await peer.close();
  await pty.stop();
  await waitFor(() => notices.length > 0, 'the loss reported');
  t.match(notices[0], { kind: 'fault', code: SensorErrorCode.PORT_LOST });
});
