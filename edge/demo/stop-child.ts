/**
 * Stops a child process as a service manager would: SIGTERM (it finishes what it must, e.g.
 * the edge flushes its open tracks), SIGKILL after `graceMs`; resolves once it is gone.
 */
import type { ChildProcess } from 'node:child_process';

export function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('close', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
