/**
 * The gpio relay through the BarrierController.
 *
 * Real hardware is not available here: no /dev/gpiochip* exists on the test machines, so no
 * line is ever driven. What is tested is the argv given to gpioset and the handling of its exit
 * codes, through the configurable binary path: a tiny shell script that records its arguments
 * (and fails or hangs on demand). The real gpioset (Debian's gpiod) is run once where
 * installed, to check that its failure on a missing chip comes back as a clear error.
 */
import t from 'tap';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BarrierController, RelayErrorCode, gpioPulseArgs } from '../../../edge/relays/index.js';
import { tempDir } from '../../fixtures/media.js';
import { waitFor } from '../../fixtures/wait.js';

/** A fake gpioset: appends its argv (one line per run) to `log`; `pulse` is what it does for a pulse run. */
function fakeGpioset(dir: string, pulse: 'ok' | 'busy' | 'hang' = 'ok'): { bin: string; runs: () => string[] } {
  const bin = join(dir, `gpioset-${pulse}`);
  const log = join(dir, `gpioset-${pulse}.log`);
  const onPulse = {
    ok: 'exit 0',
    busy: 'echo "gpioset: error setting the GPIO line values: Device or resource busy" >&2; exit 1',
    hang: 'exec sleep 60',
  }[pulse];
  writeFileSync(bin, `#!/bin/sh\necho "$*" >> '${log}'\ncase "$1" in --mode=time) ${onPulse};; esac\nexit 0\n`);
  chmodSync(bin, 0o755);
  return { bin, runs: () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []) };
}

t.test("argv: the contract's relay_pin is a pulse on gpiochip0, then the line is driven inactive and released", async (t) => {
  const fake = fakeGpioset(tempDir(t, 'relay-gpio-'));
  const ctl = new BarrierController({ gpiosetPath: fake.bin });
  t.teardown(() => ctl.close());
  const res = await ctl.open('pass-1', { id: 'gate', type: 'barrier', config: { relay_pin: 17, pulse_duration_ms: 500, require_plate: true } });
  t.match(res, { ok: true, attempts: 1 });
  t.same(fake.runs(), ['--mode=time --usec=500000 gpiochip0 17=1', '--mode=exit gpiochip0 17=0']);
});

t.test('argv: chip, active-low, and a pulse of a second or more split into --sec and --usec', async (t) => {
  const fake = fakeGpioset(tempDir(t, 'relay-gpio-'));
  const ctl = new BarrierController({ gpiosetPath: fake.bin });
  t.teardown(() => ctl.close());
  const res = await ctl.open('p', { id: 'gate', config: { relay: { kind: 'gpio', chip: 'gpiochip1', line: 4, active_low: true }, pulse_duration_ms: 1500 } });
  t.match(res, { ok: true });
  t.same(fake.runs(), ['--mode=time --sec=1 --usec=500000 --active-low gpiochip1 4=1', '--mode=exit --active-low gpiochip1 4=0']);
  t.same(gpioPulseArgs({ kind: 'gpio', chip: '0', line: 511, active_low: false }, 10_000), ['--mode=time', '--sec=10', '--usec=0', '0', '511=1']);
});

t.test('gpioset exits non-zero: retried, each time released, then RELAY_GPIO_FAILED with its message', async (t) => {
  const fake = fakeGpioset(tempDir(t, 'relay-gpio-'), 'busy');
  const ctl = new BarrierController({ gpiosetPath: fake.bin, retryDelayMs: 10 });
  t.teardown(() => ctl.close());
  const res = await ctl.open('p', { id: 'gate', config: { relay_pin: 5 } });
  t.match(res, { ok: false, attempts: 3, error: { code: RelayErrorCode.GPIO_FAILED } });
  t.match(res.error!.message, /exited with code 1: .*Device or resource busy/);
  const runs = fake.runs();
  t.equal(runs.filter((r) => r.startsWith('--mode=time')).length, 3, 'three pulses tried');
  t.same(runs.filter((_, i) => i % 2 === 1), ['--mode=exit gpiochip0 5=0', '--mode=exit gpiochip0 5=0', '--mode=exit gpiochip0 5=0'], 'each followed by a release');
});

t.test('a gpioset that hangs is killed at the deadline and the line still released; the open does not hang', async (t) => {
  const fake = fakeGpioset(tempDir(t, 'relay-gpio-'), 'hang');
  const ctl = new BarrierController({ gpiosetPath: fake.bin, budgetMs: 300 });
  t.teardown(() => ctl.close());
  const res = await ctl.open('p', { id: 'gate', config: { relay_pin: 6, pulse_duration_ms: 100 } });
  t.match(res, { ok: false, attempts: 1, error: { code: RelayErrorCode.TIMEOUT } });
  // The release runs once the killed gpioset has exited (after the result): wait for it.
  await waitFor(() => fake.runs().includes('--mode=exit gpiochip0 6=0'), 'the release after the kill');
  t.same(fake.runs(), ['--mode=time --usec=100000 gpiochip0 6=1', '--mode=exit gpiochip0 6=0']);
});

t.test('gpioset missing: a clear error naming the package, not retried', async (t) => {
  const dir = tempDir(t, 'relay-gpio-');
  const ctl = new BarrierController({ gpiosetPath: join(dir, 'no-such-gpioset') });
  t.teardown(() => ctl.close());
  const res = await ctl.open('p', { id: 'gate', config: { relay_pin: 17 } });
  t.match(res, { ok: false, attempts: 1, error: { code: RelayErrorCode.GPIOSET_MISSING } });
  t.match(res.error!.message, /no-such-gpioset not found: .*apt-get install gpiod/);
});

t.test("the real gpioset on a machine without that chip: RELAY_GPIO_FAILED with gpioset's own message", { skip: !existsSync('/usr/bin/gpioset') && 'gpioset not installed (apt-get install gpiod)' }, async (t) => {
  t.notOk(existsSync('/dev/gpiochip77'), 'no such chip here');
  const ctl = new BarrierController({ gpiosetPath: '/usr/bin/gpioset', tries: 1 });
  t.teardown(() => ctl.close());
  const res = await ctl.open('p', { id: 'gate', config: { relay: { kind: 'gpio', chip: 'gpiochip77', line: 17 }, pulse_duration_ms: 50 } });
  t.match(res, { ok: false, error: { code: RelayErrorCode.GPIO_FAILED } });
  t.match(res.error!.message, /gpiochip77/);
});
