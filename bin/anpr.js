#!/usr/bin/env node
// Entry point of the `anpr` command. Which code it runs:
//  - dist/ (the compiled build, `npm run build`) when it is built and no source file is newer
//    than it, or when tsx is not installed (a production install: `npm ci --omit=dev`);
//  - else the TypeScript sources through tsx's loader (a dev checkout, where editing a file
//    and running `anpr` again needs no build step).
// ANPR_FROM=dist|src forces one. A production install never loads tsx.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));
const stamp = join(root, 'dist', '.built');

/** Newest modification time (ms) of a source file under dir. */
function newest(dir) {
  let max = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) max = Math.max(max, newest(p));
    else if (/\.(ts|js|py)$/.test(e.name)) max = Math.max(max, statSync(p).mtimeMs);
  }
  return max;
}

function hasTsx() {
  try {
    createRequire(import.meta.url).resolve('tsx/esm/api');
    return true;
  } catch {
    return false;
  }
}

function useDist() {
  if (process.env.ANPR_FROM === 'dist') return true;
  if (process.env.ANPR_FROM === 'src') return false;
  if (!hasTsx()) return true;
  if (!existsSync(stamp)) return false;
  const built = statSync(stamp).mtimeMs;
  return ['cli', 'cloud', 'edge', 'shared'].every((d) => !existsSync(join(root, d)) || newest(join(root, d)) <= built);
}

let main;
if (useDist()) {
  if (!existsSync(stamp)) {
    console.error(`anpr: no compiled build in ${join(root, 'dist')}: run npm run build (or scripts/setup.sh)`);
    process.exit(1);
  }
  ({ main } = await import('../dist/cli/main.js'));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
