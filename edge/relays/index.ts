/**
 * Barrier relays (issue 10): `BarrierController.open(passId, sensor)` is the only way the edge
 * pulses a relay (once per pass, retried briefly, bounded by a deadline, never rejecting).
 * The drivers (http, gpio, serial) stay inside this folder.
 */
export { BarrierController, type BarrierControllerOptions, type BarrierSensor, type OpenFailure, type OpenResult } from './barrier-controller.js';
export { RelayError, RelayErrorCode, isRelayError, type RelayNotice } from './types.js';
export { lcusCommand } from './serial-relay.js';
export { gpioPulseArgs, gpioReleaseArgs } from './gpio-relay.js';
