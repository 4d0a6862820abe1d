import type { Command } from '../command.js';
import { VERSION } from '../../shared/version.js';

const command: Command = {
  name: 'version',
  summary: 'Print the version of the anpr package',
  async run() {
    console.log(VERSION);
  },
};
export default command;
