/**
 * A job node-cron runs on a schedule under the store's job lock (docs/operations.md): several
 * cloud instances on one PostgreSQL database fire together and the advisory lock lets one of them
 * run it. In this process one run happens at a time too: a run asked for while one is going waits
 * for it (on SQLite the job lock always succeeds, so two overlapping runs would both go ahead).
 */
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import type { Store } from '../store/db.js';

export interface ScheduledJob<T> {
  /** One run now, under the job lock; null when another instance holds it. */
  runOnce(): Promise<T | null>;
  /** When node-cron fires next (wall clock, not the injected clock). */
  nextRun(): Date | null;
  stop(): Promise<void>;
}

export interface ScheduledJobOptions<T> {
  store: Store;
  logger: Logger;
  /** The job lock's and the cron task's name. */
  name: string;
  /** What the log calls a run ('retention purge'). */
  label: string;
  schedule: string;
  timezone: string;
  run: () => Promise<T>;
  /** The fields the log line of a finished run carries. */
  logged: (result: T) => object;
}

export function startScheduledJob<T>(opts: ScheduledJobOptions<T>): ScheduledJob<T> {
  const { store, logger, label } = opts;
  async function lockedRun(): Promise<T | null> {
    const { ran, result } = await store.withJobLock(opts.name, opts.run);
    if (!ran || !result) {
      logger.info(`${label} skipped: another instance holds the lock`);
      return null;
    }
    logger.info(opts.logged(result), `${label} done`);
    return result;
  }
  let previous: Promise<unknown> = Promise.resolve();
  function runOnce(): Promise<T | null> {
    const run = previous.then(lockedRun, lockedRun);
    previous = run.catch(() => undefined);
    return run;
  }
  const task: ScheduledTask = cron.schedule(
    opts.schedule,
    async () => {
      try {
        await runOnce();
      } catch (err) {
        logger.error({ err }, `${label} failed`);
      }
    },
    { name: opts.name, timezone: opts.timezone, noOverlap: true },
  );
  return {
    runOnce,
    nextRun: () => task.getNextRun(),
    async stop() {
      await task.destroy();
    },
  };
}
