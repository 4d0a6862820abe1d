import { readFileSync } from 'node:fs';
import type { Command } from '../command.js';

/** The package version, read once from package.json. */
export const VERSION: string = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;

const command: Command = {
  name: 'version',
  summary: 'Print the version of the anpr package',
  async run() {
    console.log(VERSION);
  },
};
export default command;
