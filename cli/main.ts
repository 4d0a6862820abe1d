/**
 * `anpr` command-line entry. Subcommands are the default exports of cli/commands/*.ts,
 * found at start-up; each imports its heavy dependencies lazily inside `run`.
 */
import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { runCommand, type Command } from './command.js';

const commandsDir = fileURLToPath(new URL('./commands/', import.meta.url));

async function loadCommands(): Promise<Command[]> {
  const files = (await readdir(commandsDir)).filter((f) => /\.ts$/.test(f) && !f.endsWith('.d.ts')).sort();
  const mods = await Promise.all(files.map((f) => import(new URL(`./commands/${f}`, import.meta.url).href)));
  return mods.map((m) => m.default as Command).sort((a, b) => a.name.localeCompare(b.name));
}

export async function main(argv: string[]): Promise<number> {
  const root: Command = {
    name: 'anpr',
    summary: 'Edge-first automatic number-plate recognition: edge daemon, cloud service and tools.',
    subcommands: await loadCommands(),
  };
  return runCommand(root, argv, []);
}
