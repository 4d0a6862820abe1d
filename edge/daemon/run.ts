/** Runs the edge daemon as a process: signals stop it cleanly; a second signal exits at once. */
import type { Logger } from '../../shared/log.js';
import type { EdgeConfig } from '../config/schema.js';
import type { Recognizer } from '../contracts.js';
import { EdgeDaemon, type EdgeDaemonOptions } from './daemon.js';

export async function runEdgeProcess(config: EdgeConfig, recognizer: Recognizer, logger: Logger, extra: Partial<EdgeDaemonOptions> = {}): Promise<number> {
  const daemon = new EdgeDaemon({ config, recognizer, logger, ...extra });
  await daemon.start();
  return new Promise<number>((resolve) => {
    let stopping = false;
    const onSignal = (sig: NodeJS.Signals) => {
      if (stopping) process.exit(130);
      stopping = true;
      logger.info({ signal: sig }, 'stopping');
      void daemon
        .stop()
        // The daemon disposes recognizers it built or replaced; the one passed in, if still in force, is ours.
        .then(() => (daemon.injectedReplaced ? undefined : recognizer.dispose()))
        .then(() => resolve(0), (e) => {
          logger.error({ err: e }, 'stop failed');
          resolve(1);
        });
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  });
}
