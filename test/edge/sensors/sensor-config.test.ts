/** TPMS and RFID configs (shared/schemas/sensor-config.ts) and their check in SensorCreate. */
import t from 'tap';
import { RfidConfig, TpmsConfig } from '../../../shared/schemas/sensor-config.js';
import { SensorCreate } from '../../../shared/schemas/config.js';
import { fieldErrors } from '../../../shared/errors.js';

const errors = (type: string, config: unknown) => {
  const r = SensorCreate.safeParse({ name: 'S', type, config });
  return r.success ? [] : fieldErrors(r.error.issues).map((e) => e.message).join(' | ');
};

t.test("the contract's TPMS example stays valid (COM3 included) and is stored as written", async (t) => {
  const config = { sensor_port: 'COM3', baudrate: 115200, threshold: { pressure_min: 1.8, pressure_max: 2.5, temperature_max: 60 } };
  const r = SensorCreate.safeParse({ name: 'TPMS', type: 'tpms', camera_id: 'cam-001', config });
  t.ok(r.success);
  t.same(r.data!.config, config);
  t.same(TpmsConfig.parse({ sensor_port: '/dev/ttyUSB1' }), { sensor_port: '/dev/ttyUSB1', baudrate: 9600, threshold: { pressure_min: 1.8, pressure_max: 2.5, temperature_max: 60 } }, 'defaults');
});

t.test('bad TPMS configs name the field', async (t) => {
  t.match(errors('tpms', {}), /config\.sensor_port is required/);
  t.match(errors('tpms', { sensor_port: 'tty0' }), /config\.sensor_port: must be an absolute device path/);
  t.match(errors('tpms', { sensor_port: '/dev/ttyS0', baudrate: 12 }), /config\.baudrate/);
  t.match(errors('tpms', { sensor_port: '/dev/ttyS0', threshold: { pressure_min: 3, pressure_max: 2 } }), /config\.threshold\.pressure_min: pressure_min must be ≤ pressure_max/);
  t.match(errors('tpms', { sensor_port: '/dev/ttyS0', threshold: { pressure_max: 200 } }), /config\.threshold\.pressure_max/);
  t.match(errors('tpms', { sensor_port: '/dev/ttyS0', threshold: { psi: 30 } }), /config\.threshold\.psi: unknown field/);
});

t.test('RFID configs: line or rdm6300', async (t) => {
  t.same(RfidConfig.parse({ sensor_port: '/dev/ttyAMA0' }), { sensor_port: '/dev/ttyAMA0', baudrate: 9600, format: 'line' });
  t.same(errors('rfid', { sensor_port: '/dev/ttyAMA0', format: 'rdm6300' }), []);
  t.match(errors('rfid', { sensor_port: '/dev/ttyAMA0', format: 'wiegand' }), /config\.format/);
  t.match(errors('rfid', { sensor_port: '/dev/tty\u0000' }), /config\.sensor_port: must not contain control characters/);
});
