import type { Command } from '../command.js';
import { int, str } from '../command.js';
import { AppError } from '../../shared/errors.js';

const command: Command = {
  name: 'doctor',
  summary: 'Check an edge install: ffmpeg, models and checksums, providers, each camera, the cloud, the disk budget',
  options: {
    config: { type: 'string', short: 'c', arg: 'FILE', description: 'Edge config, YAML or JSON' },
    timeout: { type: 'string', arg: 'S', default: '10', description: 'Seconds to wait for each camera' },
    json: { type: 'boolean', description: 'Print JSON' },
  },
  details: 'Exit status: 0 when nothing failed (warnings allowed), 1 otherwise.',
  async run(p) {
    const file = str(p, 'config');
    if (!file) throw new AppError('INVALID_REQUEST', '--config FILE is required');
    const { loadEdgeConfig } = await import('../../edge/config/load.js');
    const { runDoctor, formatResults } = await import('../../edge/daemon/doctor.js');
    const results = await runDoctor(loadEdgeConfig(file), { cameraTimeoutS: int(p, 'timeout', 1, 300) });
    console.log(p.values.json ? JSON.stringify(results, null, 2) : formatResults(results));
    return results.some((r) => r.state === 'fail') ? 1 : 0;
  },
};
export default command;
