/**
 * Retention (docs/privacy.md, docs/operations.md "Retention"): raw evidence is kept only as long
 * as it can still matter. Every night we delete, for sessions that ended more than N days ago, the
 * accepted token submissions, the verification records, the windows a gateway witnessed a phone in
 * (with its BLE address) and the refused check-ins, and every challenge past its expiry.
 * The attendance decisions (status, presence, verified flag, reasons, overrides) and enrolled
 * public keys stay. The cloud's own event history is bounded in the same purge: gateway event ids
 * past their dedupe horizon and commands settled long ago.
 */
import type { Logger } from 'pino';
import type { Store } from '../store/db.js';
import { startScheduledJob, type ScheduledJob } from './scheduled-job.js';

const DAY_MS = 86_400_000;
/**
 * How long an ingested event id is remembered, so a gateway's resend is recognised. A gateway
 * resends an event whose PUBACK it never saw when it reconnects, however long it was away; 180
 * days outlasts any break a room's gateway sits unplugged through with events in its outbox.
 */
export const EVENT_ID_RETENTION_DAYS = 180;
/**
 * Heartbeats: 1,440 a day per gateway, and a repeat only rewrites the gateway's last reported
 * state, which the next heartbeat rewrites again; a week covers any reconnect resend.
 */
export const HEARTBEAT_ID_RETENTION_DAYS = 7;
/** Settled gateway commands are kept as history for as long as event ids. */
export const SETTLED_COMMAND_RETENTION_DAYS = EVENT_ID_RETENTION_DAYS;
/** 03:17 local time: off the hour so many installations do not hit shared databases together. */
export const RETENTION_SCHEDULE = '17 3 * * *';

export interface PurgeCounts {
  submissions: number;
  verifications: number;
  /** Witnessed windows of those sessions (proof of proximity). */
  witnessedWindows: number;
  /** Refused check-ins of those sessions, and those naming no session received as long ago. */
  checkinRefusals: number;
  challenges: number;
  ingestedEvents: number;
  commands: number;
  /** Used or expired e-mail verification links. */
  emailVerifications: number;
}

/**
 * One purge, in one transaction: raw data of sessions ended over `retentionDays` ago (with their
 * witnessed windows and refused check-ins), expired
 * challenges, event ids past their horizon, long-settled commands, spent e-mail verification links.
 */
export function purgeRawData(store: Store, now: number, retentionDays: number): Promise<PurgeCounts> {
  const endedBefore = now - retentionDays * DAY_MS;
  return store.transaction(async (tx) => ({
    submissions: await tx.submissions.purgeEndedBefore(endedBefore),
    verifications: await tx.webauthn.purgeVerificationsEndedBefore(endedBefore),
    ...(await tx.checkins.purgeEndedBefore(endedBefore)),
    challenges: await tx.webauthn.purgeExpiredChallenges(now),
    ingestedEvents: await tx.gateways.purgeIngestedBefore(now - HEARTBEAT_ID_RETENTION_DAYS * DAY_MS, now - EVENT_ID_RETENTION_DAYS * DAY_MS),
    commands: await tx.commands.purgeSettledBefore(now - SETTLED_COMMAND_RETENTION_DAYS * DAY_MS),
    emailVerifications: await tx.emailVerifications.purgeSpent(now),
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

export type RetentionJob = ScheduledJob<PurgeCounts>;

/** Schedules the purge (nightly at 03:17 unless `schedule` says otherwise) under the job lock. */
export function startRetentionJob(opts: RetentionJobOptions): RetentionJob {
  const { store, clock, retentionDays } = opts;
  return startScheduledJob({
    store, logger: opts.logger, name: 'retention', label: 'retention purge', schedule: opts.schedule ?? RETENTION_SCHEDULE, timezone: opts.timezone,
    run: () => purgeRawData(store, clock(), retentionDays),
    logged: (deleted) => ({ deleted, retentionDays }),
  });
}
