/** The driver for a relay config: http, gpio or serial (the config is already parsed). */
import type { RelayConfig } from '../../shared/schemas/sensor-config.js';
import { GpioRelay } from './gpio-relay.js';
import { HttpRelay } from './http-relay.js';
import { SerialRelay } from './serial-relay.js';
import type { Relay, RelayNotice } from './types.js';

export interface RelayDriverOptions {
  /** gpioset binary for gpio relays (default `gpioset` on PATH). */
  gpiosetPath?: string;
  /** What a driver notices between pulses (a serial board unplugged or back). */
  onNotice?: (n: RelayNotice) => void;
}

export function createRelay(cfg: RelayConfig, opts: RelayDriverOptions = {}): Relay {
  switch (cfg.kind) {
    case 'http':
      return new HttpRelay(cfg);
    case 'gpio':
      return new GpioRelay(cfg, { gpiosetPath: opts.gpiosetPath });
    case 'serial':
      return new SerialRelay(cfg, { onNotice: opts.onNotice });
  }
}
