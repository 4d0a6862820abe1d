/**
 * `anpr` command-line entry. Subcommands are the default exports of cli/commands/*.ts,
 * found at start-up; each imports its heavy dependencies lazily inside `run`.
 */
import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { runCommand, type Command } from './command.js';
import { VERSION } from '../shared/version.js';

const commandsDir = fileURLToPath(new URL('./commands/', import.meta.url));
/** `.ts` from sources (through tsx), `.js` from the compiled build in dist/. */
const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

async function loadCommands(): Promise<Command[]> {
  const files = (await readdir(commandsDir)).filter((f) => f.endsWith(ext) && !f.endsWith('.d.ts')).sort();
  const mods = await Promise.all(files.map((f) => import(new URL(`./commands/${f}`, import.meta.url).href)));
  return mods.map((m) => m.default as Command).sort((a, b) => a.name.localeCompare(b.name));
}

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    console.log(VERSION);
    return 0;
  }
  const root: Command = {
    name: 'anpr',
    summary: 'Edge-first automatic number-plate recognition: edge daemon, cloud service and tools.',
    subcommands: await loadCommands(),
  };
  return runCommand(root, argv, []);
}
