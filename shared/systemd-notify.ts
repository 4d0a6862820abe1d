/**
 * systemd readiness and watchdog. Under `Type=notify` with `NotifyAccess=all`, the daemon tells
 * systemd it is ready and pets the watchdog (at half `WatchdogSec`) through `systemd-notify`,
 * so no native binding is needed. Outside systemd (no NOTIFY_SOCKET) all of this is a no-op.
 */
import { execFile } from 'node:child_process';

function notify(...args: string[]): void {
  if (!process.env.NOTIFY_SOCKET) return;
  execFile('systemd-notify', args, () => {});
}

export function notifyReady(status = 'running'): void {
  notify('--ready', `--status=${status}`);
}

export function notifyStopping(): void {
  notify('STOPPING=1');
}

/** Starts petting the watchdog while `healthy()` says so; returns a stop function. */
export function startWatchdog(healthy: () => boolean | Promise<boolean>): () => void {
  const usec = Number(process.env.WATCHDOG_USEC ?? 0);
  if (!process.env.NOTIFY_SOCKET || !usec) return () => {};
  const timer = setInterval(() => {
    // A check that throws or rejects counts as unhealthy: the watchdog is not petted.
    void Promise.resolve()
      .then(healthy)
      .then((ok) => ok && notify('WATCHDOG=1'), () => {});
  }, Math.max(1000, usec / 2000));
  timer.unref();
  return () => clearInterval(timer);
}
