/**
 * Feeds systemd's watchdog only while the gateway is healthy. Withholding WATCHDOG=1 is the
 * point: after WatchdogSec systemd kills and restarts us, which resets a hung Bluetooth adapter.
 */
import type { Logger } from 'pino';
import type { Health, HealthReport } from '../health.js';
import type { SdNotifier } from './notify.js';

export class Watchdog {
  private timer: NodeJS.Timeout | null = null;
  private withheld = false;

  constructor(
    private readonly notifier: SdNotifier,
    private readonly health: Health,
    private readonly intervalMs: number | null,
    private readonly log: Logger,
  ) {}

  start(): void {
    if (this.intervalMs === null) return;
    this.timer = setInterval(() => this.tick(), this.intervalMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  tick(): HealthReport {
    const report = this.health.check();
    if (report.ok) {
      if (this.withheld) this.log.info('healthy again: watchdog fed');
      this.withheld = false;
      void this.notifier.notify('WATCHDOG=1');
    } else if (!this.withheld) {
      this.withheld = true;
      this.log.error({ radio: report.radio, store: report.store }, 'unhealthy: watchdog withheld, systemd will restart the daemon');
    }
    return report;
  }
}
