import type { Command } from '../command.js';
import { int, str } from '../command.js';

const command: Command = {
  name: 'demo',
  summary: 'Run the whole system locally: cloud, edge and MQTT broker fed by a synthetic RTSP camera; prints events live',
  options: {
    'data-dir': { type: 'string', arg: 'DIR', default: './data/demo', description: 'Where the demo keeps its clip, cloud and edge data' },
    mirror: { type: 'string', arg: 'DIR', description: 'A local folder of further model files (by checksum), besides the shipped models' },
    duration: { type: 'string', arg: 'S', description: 'Stop after S seconds (default: run until Ctrl-C)' },
    'max-events': { type: 'string', arg: 'N', description: 'Stop after N events reached the cloud' },
    port: { type: 'string', arg: 'PORT', description: 'Cloud port (default: any free port)' },
    verbose: { type: 'boolean', description: 'Show the components\' logs' },
  },
  async run(p) {
    const { runDemo } = await import('../../edge/demo/demo.js');
    const { createLogger, silentLogger } = await import('../../shared/log.js');
    const summary = await runDemo({
      dataDir: str(p, 'data-dir')!,
      mirror: str(p, 'mirror'),
      durationS: int(p, 'duration', 1),
      maxEvents: int(p, 'max-events', 1),
      cloudPort: int(p, 'port', 0, 65535),
      logger: p.values.verbose ? createLogger({ name: 'anpr-demo' }) : silentLogger,
      verbose: p.values.verbose === true,
    });
    return summary.events.length > 0 ? 0 : 1;
  },
};
export default command;
