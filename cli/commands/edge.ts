import type { Command } from '../command.js';
import { str } from '../command.js';
import { AppError } from '../../shared/errors.js';

const command: Command = {
  name: 'edge',
  summary: 'Run the edge daemon: cameras in, plate events out to the cloud, MQTT and webhooks',
  options: {
    config: { type: 'string', short: 'c', arg: 'FILE', description: 'Edge config, YAML or JSON (see docs/edge.md)' },
    'log-level': { type: 'string', arg: 'LEVEL', description: 'Log level (overrides the config)' },
  },
  details:
    'Local operations HTTP (default 127.0.0.1:8089): /healthz, /metrics, /status; changes (anpr outbox retry|replay) need the ops token\n(<data_dir>/ops-token or $ANPR_EDGE_OPS_TOKEN; docs/edge.md).\nStop with SIGTERM or Ctrl-C; open tracks are flushed into the outbox first.',
  async run(p) {
    const file = str(p, 'config');
    if (!file) throw new AppError('INVALID_REQUEST', '--config FILE is required');
    const { loadEdgeConfig } = await import('../../edge/config/load.js');
    const { createLogger } = await import('../../shared/log.js');
    const { runEdgeProcess } = await import('../../edge/daemon/run.js');
    const cfg = loadEdgeConfig(file);
    const logger = createLogger({ level: str(p, 'log-level') ?? cfg.log_level, name: 'anpr-edge' });
    const { createRecognizer } = await import('../../edge/recognize/index.js');
    const { recognizerOptions } = await import('../../edge/daemon/models.js');
    // The cloud's model list is not known yet: the daemon swaps in a recognizer for it once synced.
    const recognizer = await createRecognizer(recognizerOptions(cfg, [], logger));
    return runEdgeProcess(cfg, recognizer, logger);
  },
};
export default command;
