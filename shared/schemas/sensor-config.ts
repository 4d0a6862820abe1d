/**
 * The `config` of a sensor, by its type (issue 10): a `barrier` drives one relay, `tpms` and
 * `rfid` are read from a serial port. `SensorCreate` (shared/schemas/config.ts) validates a
 * sensor's config with these schemas and stores it as written; the edge parses it again with
 * the same schema to get every default filled in. Other sensor types keep a free-form config.
 *
 * - A barrier's relay is `config.relay`, one of three kinds: `http` (one request = one pulse),
 *   `gpio` (libgpiod's `gpioset` on a line of a chip) or `serial` (a USB relay board speaking
 *   the common CH340/CP210x "LCUS" bytes). Two shorthands stay valid: the API contract's
 *   `relay_pin: 17` is a gpio relay on line 17 of `gpiochip0`, and the older barrier hook's
 *   `url` (with `headers`, `timeout_ms`) is an http relay. No relay at all is allowed: the
 *   barrier is declared but not wired, and every `open` of it fails (an alert, never an open).
 * - `directions` says which passes may open it: a barrier for one direction never opens for a
 *   pass whose direction is unknown (`barrierOpensFor`).
 * - Credentials (`auth.token`, `auth.password`, header values) are secrets: shared/redact.ts
 *   masks them in logs by their names, and the cloud shows them to admins and edges only.
 * - A serial port is an absolute path (normally `/dev/ttyUSB0` or `/dev/serial/by-id/…`) or a
 *   Windows `COMn` name (the contract's example says `COM3`).
 */
import { z, HttpUrl, SafeString } from './common.js';
// config.ts imports this module for SensorCreate, so ExporterAuth is read lazily (z.lazy):
// whichever of the two modules loads first, neither touches the other's values while loading.
import { ExporterAuth } from './config.js';

/** The chip a `relay_pin` (and a gpio relay without `chip`) refers to. */
export const DEFAULT_GPIO_CHIP = 'gpiochip0';

const HEADER_NAME = /^[A-Za-z0-9-]{1,128}$/;

const RelayUrl = HttpUrl
  .describe('http:// or https:// URL of the relay (credentials in it are redacted in logs)');

const RelayHeaders = z
  .record(z.string().regex(HEADER_NAME, 'invalid header name'), SafeString().max(4096))
  .refine((h) => Object.keys(h).length <= 32, 'at most 32 headers')
  .describe('Extra request headers (values are secrets: masked in logs and for non-admins); default none');

const RelayTimeout = z.number().int().min(50).max(10_000).describe('Milliseconds one request may take, 50-10000 (default 500)');

/** ExporterAuth without `api_key` (a relay takes a bearer token, basic auth or a header). */
const RelayAuth = z
  .lazy(() => ExporterAuth)
  .refine((a) => a.type !== 'api_key', { message: 'a relay takes auth none, bearer or basic (send an API key as a header)', path: ['type'] })
  .describe('{type: none|bearer|basic, token, username, password} (default none)');

const SerialPortPath = SafeString()
  .min(1)
  .max(256)
  .refine((p) => (p.startsWith('/') && !p.split('/').includes('..')) || /^COM[1-9]\d{0,2}$/.test(p), 'must be an absolute device path such as /dev/ttyUSB0 (or COMn on Windows)')
  .describe('Serial device: an absolute path such as /dev/ttyUSB0 or /dev/serial/by-id/… (COMn on Windows)');

const Baudrate = z.number().int().min(300).max(4_000_000);

export const HttpRelay = z
  .object({
    kind: z.literal('http'),
    url: RelayUrl,
    method: z.enum(['POST', 'PUT', 'GET']).default('POST').describe('HTTP method (default POST; POST and PUT send {"action":"pulse","duration_ms":N})'),
    headers: RelayHeaders.default({}),
    auth: RelayAuth.default({ type: 'none' }),
    timeout_ms: RelayTimeout.default(500),
  })
  .strict()
  .describe('An HTTP relay: one request = one pulse; a 2xx answer is success, anything else or no answer in time a failure');

export const GpioRelay = z
  .object({
    kind: z.literal('gpio'),
    chip: SafeString()
      .regex(/^(?:gpiochip\d{1,3}|\d{1,3}|\/dev\/gpiochip\d{1,3})$/, 'must be a gpio chip such as gpiochip0, 0 or /dev/gpiochip0')
      .default(DEFAULT_GPIO_CHIP)
      .describe('GPIO chip (default gpiochip0)'),
    line: z.number().int().min(0).max(511).describe('Line offset on the chip, 0-511'),
    active_low: z.boolean().default(false).describe('The relay closes when the line is low (default false)'),
  })
  .strict()
  .describe("A relay on a GPIO line, pulsed with libgpiod's gpioset");

export const SerialRelay = z
  .object({
    kind: z.literal('serial'),
    port: SerialPortPath,
    baudrate: Baudrate.default(9600).describe('Baud rate, 300-4000000 (default 9600, what LCUS boards speak)'),
    board: z.literal('lcus').default('lcus').describe('Command set: lcus = A0 <channel> <01|00> <checksum> (CH340/CP210x USB relay boards; default)'),
    channel: z.number().int().min(1).max(8).default(1).describe('Relay channel on the board, 1-8 (default 1)'),
  })
  .strict()
  .describe('A USB relay board on a serial port');

export const RelayConfig = z.discriminatedUnion('kind', [HttpRelay, GpioRelay, SerialRelay]);
export type RelayConfig = z.output<typeof RelayConfig>;
export type HttpRelayConfig = z.output<typeof HttpRelay>;
export type GpioRelayConfig = z.output<typeof GpioRelay>;
export type SerialRelayConfig = z.output<typeof SerialRelay>;

export const DIRECTIONS = ['in', 'out'] as const;
export type Direction = (typeof DIRECTIONS)[number];

const BarrierFields = z
  .object({
    relay: RelayConfig.optional().describe('The relay this barrier pulses to open: {kind: http|gpio|serial, …}'),
    relay_pin: z.number().int().min(0).max(511).nullish().describe("The contract's shorthand: a gpio relay on this line of gpiochip0"),
    url: RelayUrl.nullish().describe('Shorthand of the older barrier hook: an http relay (POST) at this URL'),
    headers: RelayHeaders.optional().describe('Headers of the `url` shorthand'),
    timeout_ms: RelayTimeout.optional().describe('Timeout of the `url` shorthand (default 500)'),
    pulse_duration_ms: z.number().int().min(50).max(10_000).default(500).describe('How long the relay stays closed, 50-10000 ms (default 500)'),
    require_plate: z.boolean().default(true).describe('Open only for a read plate that a list allows (default true)'),
    directions: z
      .array(z.enum(DIRECTIONS))
      .min(1, 'name at least one direction (remove the sensor to disable the barrier)')
      .max(2)
      .default(['in', 'out'])
      .describe('Directions of passes that open it (default both; one direction never opens for a pass of unknown direction)'),
  })
  .strict();

/**
 * A barrier's config as written (the contract's shorthands included); parsing gives the one
 * normal form `{relay, pulse_duration_ms, require_plate, directions}` with `relay: null` when
 * none is configured.
 */
export const BarrierConfig = BarrierFields.superRefine((c, ctx) => {
  const given = (['relay', 'relay_pin', 'url'] as const).filter((k) => c[k] !== undefined && c[k] !== null);
  if (given.length > 1) ctx.addIssue({ code: 'custom', path: [given[1]!], message: `give one of relay, relay_pin or url, not ${given.join(' and ')}` });
  for (const k of ['headers', 'timeout_ms'] as const) {
    if (c[k] !== undefined && (c.url === undefined || c.url === null)) ctx.addIssue({ code: 'custom', path: [k], message: `${k} belongs to the url shorthand (use relay.${k} with relay.kind http)` });
  }
}).transform((c) => {
  let relay: RelayConfig | null = c.relay ?? null;
  if (!relay && c.relay_pin !== undefined && c.relay_pin !== null) relay = { kind: 'gpio', chip: DEFAULT_GPIO_CHIP, line: c.relay_pin, active_low: false };
  if (!relay && c.url) relay = { kind: 'http', url: c.url, method: 'POST', headers: c.headers ?? {}, auth: { type: 'none' }, timeout_ms: c.timeout_ms ?? 500 };
  return { relay, pulse_duration_ms: c.pulse_duration_ms, require_plate: c.require_plate, directions: [...new Set(c.directions)] };
});
export type BarrierConfigInput = z.input<typeof BarrierConfig>;
export type BarrierConfig = z.output<typeof BarrierConfig>;

/** Whether a barrier acts for a pass going `direction` (null = unknown: only a barrier for both directions opens). */
export function barrierOpensFor(config: Pick<BarrierConfig, 'directions'>, direction: Direction | null): boolean {
  if (direction === null) return DIRECTIONS.every((d) => config.directions.includes(d));
  return config.directions.includes(direction);
}

export const TpmsThreshold = z
  .object({
    pressure_min: z.number().min(0).max(100).default(1.8).describe('Below this pressure (bar) a reading is low_pressure (default 1.8)'),
    pressure_max: z.number().min(0).max(100).default(2.5).describe('Above this pressure (bar) a reading is high_pressure (default 2.5)'),
    temperature_max: z.number().min(-100).max(300).default(60).describe('Above this temperature (°C) a reading is high_temperature (default 60)'),
  })
  .strict()
  .refine((t) => t.pressure_min <= t.pressure_max, { message: 'pressure_min must be ≤ pressure_max', path: ['pressure_min'] });

/** A TPMS reader on a serial port (the contract's shape): JSON or CSV lines, judged against the thresholds. */
export const TpmsConfig = z
  .object({
    sensor_port: SerialPortPath,
    baudrate: Baudrate.default(9600).describe('Baud rate, 300-4000000 (default 9600)'),
    threshold: TpmsThreshold.default({ pressure_min: 1.8, pressure_max: 2.5, temperature_max: 60 }),
  })
  .strict();
export type TpmsConfig = z.output<typeof TpmsConfig>;
export type TpmsThreshold = z.output<typeof TpmsThreshold>;

/** An RFID reader on a serial port: `line` = one ASCII tag per line; `rdm6300` = the RDM6300's 14-byte frames. */
export const RfidConfig = z
  .object({
    sensor_port: SerialPortPath,
    baudrate: Baudrate.default(9600).describe('Baud rate, 300-4000000 (default 9600, the RDM6300\'s)'),
    format: z.enum(['line', 'rdm6300']).default('line').describe('line: one tag per line (ASCII); rdm6300: 0x02, 10 hex digits, 2 hex checksum, 0x03 (default line)'),
  })
  .strict();
export type RfidConfig = z.output<typeof RfidConfig>;

/** The config schema of each sensor type that has one; any other type's config is free-form. */
export const SENSOR_CONFIGS = { barrier: BarrierConfig, tpms: TpmsConfig, rfid: RfidConfig } as const;

/** The issues of a sensor's config for its type (paths inside `config`); none for a type without a schema. */
export function sensorConfigIssues(type: string, config: unknown): Array<{ path: PropertyKey[]; message: string }> {
  const schema = (SENSOR_CONFIGS as Record<string, z.ZodType | undefined>)[type];
  if (!schema) return [];
  const r = schema.safeParse(config ?? {});
  if (r.success) return [];
  return r.error.issues.flatMap((i) => {
    // A strict object's unknown keys: one issue per key, so the 400 names each field.
    if (i.code === 'unrecognized_keys') return i.keys.map((k) => ({ path: [...i.path, k], message: 'unknown field' }));
    return [{ path: i.path, message: i.message }];
  });
}
