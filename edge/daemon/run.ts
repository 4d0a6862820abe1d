/**
 * Runs the edge daemon as a process: signals stop it cleanly; a second signal exits at once.
 * Resolves the exit code: 0 after a signal, 1 when stopping failed, 78 (EX_CONFIG) when the
 * cloud says another box runs this edge id — at the start or later — which systemd does not
 * restart (RestartPreventExitStatus=78): the config must change first.
 */
import type { Logger } from '../../shared/log.js';
import type { EdgeConfig } from '../config/schema.js';
import type { Recognizer } from '../contracts.js';
import { EdgeDaemon, EdgeIdInUseError, type EdgeDaemonOptions } from './daemon.js';

export async function runEdgeProcess(config: EdgeConfig, recognizer: Recognizer, logger: Logger, extra: Partial<EdgeDaemonOptions> = {}): Promise<number> {
  let fatal: (code: number) => void = () => {};
  const fatalCode = new Promise<number>((r) => (fatal = r));
  const daemon = new EdgeDaemon({ config, recognizer, logger, ...extra, onFatal: (code, message) => {
    extra.onFatal?.(code, message);
    fatal(code);
  } });
  try {
    await daemon.start();
  } catch (e) {
    if (!(e instanceof EdgeIdInUseError)) throw e;
    // The daemon logged why (fatal) and stopped; the recognizer passed in is ours to dispose.
    await recognizer.dispose().catch(() => {});
    return e.exitCode;
  }
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
    void fatalCode.then(async (code) => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      if (!daemon.injectedReplaced) await recognizer.dispose().catch(() => {});
      resolve(code);
    });
  });
}
