import t from 'tap';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EdgeConfig } from '../../../edge/config/schema.js';

t.test('docs/edge.md documents every top-level and nested config key', async (t) => {
  const doc = readFileSync(fileURLToPath(new URL('../../../docs/edge.md', import.meta.url)), 'utf8');
  const missing: string[] = [];
  const unwrap = (s: unknown): { def: { type: string; shape?: Record<string, unknown>; element?: unknown; innerType?: unknown } } => {
    let x = s as { def: { innerType?: unknown } };
    while (x.def.innerType) x = x.def.innerType as typeof x;
    return x as never;
  };
  const walk = (shape: Record<string, unknown>, prefix: string) => {
    for (const [k, v] of Object.entries(shape)) {
      const path = prefix + k;
      if (!doc.includes(`\`${path}\``)) missing.push(path);
      if (k === 'exporters' || k === 'geometry') continue;
      const u = unwrap(v);
      if (u.def.type === 'object') walk(u.def.shape!, path + '.');
      if (u.def.type === 'array') {
        const el = unwrap(u.def.element);
        if (el.def.type === 'object') walk(el.def.shape!, path + '[].');
      }
    }
  };
  walk((EdgeConfig as unknown as { shape: Record<string, unknown> }).shape, '');
  t.same(missing, []);
  t.match(doc, /## Guarantees/);
});
