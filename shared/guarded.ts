/**
 * Runs a callback that is not an event — a timer, a cron job, a client library's handler — so that
 * a throw is logged instead of escaping into code that would crash the process with it. Facts
 * go through the event bus instead (shared/event-bus.ts), which isolates its listeners the same way.
 */
import type { BusLogger } from './event-bus.js';

export function guarded(log: BusLogger, what: string, msg: string, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    log.error({ err, what }, msg);
  }
}
