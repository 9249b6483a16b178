/**
 * Retention (docs/privacy.md): raw evidence is kept only as long as it can still matter. Every
 * night we delete, for sessions that ended more than N days ago, the accepted token submissions
 * and the verification records, and every challenge past its expiry. The attendance decisions
 * (status, presence, verified flag, reasons, overrides) and enrolled public keys stay.
 */
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import type { Store } from '../store/db.js';

const DAY_MS = 86_400_000;
/** 03:17 local time: off the hour so many installations do not hit shared databases together. */
export const RETENTION_SCHEDULE = '17 3 * * *';

export interface PurgeCounts {
  submissions: number;
  verifications: number;
  challenges: number;
}

/** One purge, in one transaction: raw data of sessions ended over `retentionDays` ago, expired challenges. */
export function purgeRawData(store: Store, now: number, retentionDays: number): Promise<PurgeCounts> {
  const endedBefore = now - retentionDays * DAY_MS;
  return store.transaction(async (tx) => ({
    submissions: await tx.submissions.purgeEndedBefore(endedBefore),
    verifications: await tx.webauthn.purgeVerificationsEndedBefore(endedBefore),
    challenges: await tx.webauthn.purgeExpiredChallenges(now),
  }));
}

export interface RetentionJobOptions {
  store: Store;
  logger: Logger;
  clock: () => number;
  retentionDays: number;
  timezone: string;
  schedule?: string;
}

export interface RetentionJob {
  /** One purge now, under the job lock; null when another instance holds it. */
  runOnce(): Promise<PurgeCounts | null>;
  /** When node-cron fires next (wall clock, not the injected clock). */
  nextRun(): Date | null;
  stop(): Promise<void>;
}

/**
 * Schedules the purge with node-cron. Several cloud instances on one PostgreSQL database would all
 * fire at 03:17: the advisory job lock lets exactly one of them run it.
 */
export function startRetentionJob(opts: RetentionJobOptions): RetentionJob {
  const { store, logger, clock, retentionDays } = opts;
  async function runOnce(): Promise<PurgeCounts | null> {
    const { ran, result } = await store.withJobLock('retention', () => purgeRawData(store, clock(), retentionDays));
    if (!ran || !result) {
      logger.info('retention purge skipped: another instance holds the lock');
      return null;
    }
    logger.info({ deleted: result, retentionDays }, 'retention purge done');
    return result;
  }
  const task: ScheduledTask = cron.schedule(
    opts.schedule ?? RETENTION_SCHEDULE,
    async () => {
      try {
        await runOnce();
      } catch (err) {
        logger.error({ err }, 'retention purge failed');
      }
    },
    { name: 'retention', timezone: opts.timezone, noOverlap: true },
  );
  return {
    runOnce,
    nextRun: () => task.getNextRun(),
    async stop() {
      await task.destroy();
    },
  };
}
