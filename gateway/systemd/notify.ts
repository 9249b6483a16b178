/**
 * sd_notify(3) without a native module. Node cannot send datagrams to a unix socket, so the
 * message goes through the `systemd-notify` binary (part of systemd, always present where
 * NOTIFY_SOCKET is set). Two details make that robust:
 *  - `--pid=<our pid>` makes systemd attribute the message to the main process (MAINPID), and the
 *    unit sets NotifyAccess=all because the sender is a child of the daemon;
 *  - systemd-notify (systemd >= 246) waits until the manager has processed the message
 *    (sd_notify_barrier), so the child exiting early cannot lose it.
 * Messages are sent one at a time, in order; failures are logged, never thrown.
 */
import { execFile } from 'node:child_process';
import type { Logger } from 'pino';

export interface NotifierOptions {
  env?: NodeJS.ProcessEnv;
  /** The helper binary; tests substitute a script that records its arguments. */
  command?: string;
  pid?: number;
  log: Logger;
}

export class SdNotifier {
  private chain: Promise<void> = Promise.resolve();
  private readonly socket: string | undefined;
  private readonly command: string;
  private readonly pid: number;

  constructor(private readonly opts: NotifierOptions) {
    const env = opts.env ?? process.env;
    this.socket = env.NOTIFY_SOCKET;
    this.command = opts.command ?? 'systemd-notify';
    this.pid = opts.pid ?? process.pid;
  }

  /** Sends assignments such as 'READY=1'. Resolves when sent (or failed, which is logged). */
  notify(...assignments: string[]): Promise<void> {
    if (!this.socket) return Promise.resolve();
    const args = [`--pid=${this.pid}`, ...assignments];
    this.chain = this.chain.then(
      () =>
        new Promise<void>((resolve) => {
          execFile(this.command, args, { env: { ...process.env, ...this.opts.env, NOTIFY_SOCKET: this.socket }, timeout: 5000 }, (err) => {
            if (err) this.opts.log.warn({ err: err.message, assignments }, 'sd_notify failed');
            resolve();
          });
        }),
    );
    return this.chain;
  }
}

/** The watchdog interval systemd expects, from WATCHDOG_USEC (and WATCHDOG_PID, if it names us). */
export function watchdogIntervalMs(env: NodeJS.ProcessEnv = process.env, pid = process.pid): number | null {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isFinite(usec) || usec <= 0) return null;
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== pid) return null;
  // Ping at half the timeout, as sd_watchdog_enabled(3) recommends.
  return Math.max(500, Math.floor(usec / 1000 / 2));
}
