/** Reads and validates the edge config file (YAML or JSON). */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { AppError, fieldErrors } from '../../shared/errors.js';
import { EdgeConfig } from './schema.js';

/** Validates an already-parsed object; throws CONFIG_INVALID listing every bad field. */
export function parseEdgeConfig(raw: unknown, source = 'config'): EdgeConfig {
  const r = EdgeConfig.safeParse(raw);
  if (!r.success) {
    throw new AppError('CONFIG_INVALID', `${source} is invalid`, { errors: fieldErrors(r.error.issues) });
  }
  const cfg = r.data;
  const ids = new Set<string>();
  const errors = [];
  for (const [i, c] of cfg.cameras.entries()) {
    if (ids.has(c.id)) errors.push({ field: `cameras.${i}.id`, message: `cameras.${i}.id: duplicate camera id ${c.id}` });
    ids.add(c.id);
  }
  const names = new Set<string>(cfg.cloud?.deliver_events ? ['cloud'] : []);
  for (const [i, e] of cfg.exporters.entries()) {
    if (names.has(e.name)) errors.push({ field: `exporters.${i}.name`, message: `exporters.${i}.name: duplicate exporter name ${e.name} ('cloud' is reserved when cloud.deliver_events)` });
    names.add(e.name);
  }
  if (errors.length) throw new AppError('CONFIG_INVALID', `${source} is invalid`, { errors });
  return cfg;
}

export function loadEdgeConfig(path: string): EdgeConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new AppError('CONFIG_INVALID', `cannot read config ${path}: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = /\.json$/i.test(path) ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new AppError('CONFIG_INVALID', `${path} is not valid ${/\.json$/i.test(path) ? 'JSON' : 'YAML'}: ${(e as Error).message}`);
  }
  return parseEdgeConfig(raw ?? {}, path);
}
