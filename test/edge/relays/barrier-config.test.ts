/** A barrier's config (shared/schemas/sensor-config.ts) and its check in SensorCreate. */
import t from 'tap';
import { BarrierConfig, barrierOpensFor } from '../../../shared/schemas/sensor-config.js';
import { SensorCreate } from '../../../shared/schemas/config.js';
import { fieldErrors } from '../../../shared/errors.js';

const sensor = (config: unknown, type = 'barrier') => ({ name: 'Gate', type, config });
const errors = (config: unknown, type = 'barrier') => {
  const r = SensorCreate.safeParse(sensor(config, type));
  return r.success ? [] : fieldErrors(r.error.issues).map((e) => e.message);
};

t.test("the contract's example stays valid: relay_pin is a gpio relay on that line of gpiochip0", async (t) => {
  const config = { relay_pin: 17, pulse_duration_ms: 500, require_plate: true };
  const r = SensorCreate.safeParse(sensor(config));
  t.ok(r.success);
  t.same(r.data!.config, config, 'stored as written');
  t.same(BarrierConfig.parse(config), {
    relay: { kind: 'gpio', chip: 'gpiochip0', line: 17, active_low: false },
    pulse_duration_ms: 500,
    require_plate: true,
    directions: ['in', 'out'],
  });
});

t.test('each relay kind, with its defaults', async (t) => {
  t.same(BarrierConfig.parse({ relay: { kind: 'http', url: 'http://10.0.0.5/relay' } }).relay, {
    kind: 'http', url: 'http://10.0.0.5/relay', method: 'POST', headers: {}, auth: { type: 'none' }, timeout_ms: 500,
  });
  t.same(BarrierConfig.parse({ relay: { kind: 'gpio', line: 4 } }).relay, { kind: 'gpio', chip: 'gpiochip0', line: 4, active_low: false });
  t.same(BarrierConfig.parse({ relay: { kind: 'serial', port: '/dev/serial/by-id/usb-1a86_USB_Serial-if00-port0' } }).relay, {
    kind: 'serial', port: '/dev/serial/by-id/usb-1a86_USB_Serial-if00-port0', baudrate: 9600, board: 'lcus', channel: 1,
  });
  t.same(BarrierConfig.parse({}), { relay: null, pulse_duration_ms: 500, require_plate: true, directions: ['in', 'out'] }, 'no relay: declared, not wired');
  t.same(BarrierConfig.parse({ relay_pin: null, relay: { kind: 'gpio', line: 2 } }).relay, { kind: 'gpio', chip: 'gpiochip0', line: 2, active_low: false }, 'a nulled shorthand (a PUT switching to relay) is absent');
  t.same(BarrierConfig.parse({ url: 'http://h/x', timeout_ms: 900 }).relay, { kind: 'http', url: 'http://h/x', method: 'POST', headers: {}, auth: { type: 'none' }, timeout_ms: 900 }, "the older hook's url shorthand");
  t.same(BarrierConfig.parse({ relay_pin: 1, directions: ['in', 'in'] }).directions, ['in']);
});

t.test('bad barrier configs are a 400 naming the field', async (t) => {
  const cases: Array<[unknown, RegExp]> = [
    [{ relay: { kind: 'pneumatic' } }, /config\.relay\.kind/],
    [{ relay: { kind: 'serial', port: '/dev/ttyUSB0', channel: 9 } }, /config\.relay\.channel/],
    [{ relay: { kind: 'serial', port: 'ttyUSB0' } }, /config\.relay\.port: must be an absolute device path/],
    [{ relay: { kind: 'serial', port: '/dev/../etc/passwd' } }, /config\.relay\.port/],
    [{ relay: { kind: 'serial', port: '/dev/ttyUSB0', board: 'sainsmart' } }, /config\.relay\.board/],
    [{ relay: { kind: 'gpio', line: 512 } }, /config\.relay\.line/],
    [{ relay: { kind: 'gpio', line: 1, chip: 'gpiochip0; reboot' } }, /config\.relay\.chip/],
    [{ relay: { kind: 'http', url: 'ftp://relay' } }, /config\.relay\.url/],
    [{ relay: { kind: 'http', url: 'http://relay', method: 'DELETE' } }, /config\.relay\.method/],
    [{ relay: { kind: 'http', url: 'http://relay', auth: { type: 'api_key', token: 'k' } } }, /config\.relay\.auth\.type: a relay takes auth none, bearer or basic/],
    [{ relay: { kind: 'http', url: 'http://relay', auth: { type: 'bearer' } } }, /config\.relay\.auth\.token/],
    [{ relay: { kind: 'http', url: 'http://relay', headers: { 'bad header': 'x' } } }, /config\.relay\.headers/],
    [{ relay: { kind: 'http', url: 'http://relay', colour: 'red' } }, /config\.relay\.colour: unknown field/],
    [{ relay_pin: 17, relay: { kind: 'gpio', line: 3 } }, /give one of relay, relay_pin or url/],
    [{ relay_pin: 17, headers: { a: 'b' } }, /config\.headers: headers belongs to the url shorthand/],
    [{ relay_pin: 17, pulse_duration_ms: 49 }, /config\.pulse_duration_ms/],
    [{ relay_pin: 17, pulse_duration_ms: 10_001 }, /config\.pulse_duration_ms/],
    [{ relay_pin: 17, directions: [] }, /config\.directions: name at least one direction/],
    [{ relay_pin: 17, directions: ['up'] }, /config\.directions\.0/],
    [{ relay_pin: 17, colour: 'red' }, /config\.colour: unknown field/],
    [{ relay_pin: 'seventeen' }, /config\.relay_pin/],
  ];
  for (const [config, want] of cases) t.match(errors(config).join(' | '), want, JSON.stringify(config));
});

t.test('types without a schema keep a free-form config', async (t) => {
  t.same(errors({ anything: { goes: 1 } }, 'loop'), []);
  t.same(errors({ pin: 4, cloud: { api_key: 'k' } }, 'relay'), []);
});

t.test('directions: a one-way barrier never opens for a pass of unknown direction', async (t) => {
  const both = BarrierConfig.parse({ relay_pin: 1 });
  const inOnly = BarrierConfig.parse({ relay_pin: 1, directions: ['in'] });
  t.same([barrierOpensFor(both, 'in'), barrierOpensFor(both, 'out'), barrierOpensFor(both, null)], [true, true, true]);
  t.same([barrierOpensFor(inOnly, 'in'), barrierOpensFor(inOnly, 'out'), barrierOpensFor(inOnly, null)], [true, false, false]);
});
