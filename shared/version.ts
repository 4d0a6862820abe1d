/**
 * The package version, read once from package.json. Lives in shared/ so the cloud, the edge and
 * the CLI can all name it without importing one another (`dist/package.json` links to the
 * checkout's, so the compiled build reads the same file).
 */
import { readFileSync } from 'node:fs';

export const VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;
