/**
 * The room's timetable (`timetable.set`): the gateway starts and ends those sessions itself with
 * node-cron, in the timetable's time zone, also while the cloud is unreachable. Session ids are
 * UUIDv7 and reported with source 'timetable' (docs/gateway.md §Sessions, commands, timetable).
 *
 * A person's explicit action wins: a timetable start is skipped while another session is live,
 * and a slot that already started today is not started again after a teacher ended it early.
 * A gateway that boots (or restarts) in the middle of a slot starts it late ("catch-up").
 */
import cron from 'node-cron';
import type { Logger } from 'pino';
import type { CommandData, TimetableSlot } from '../shared/mqtt/messages.js';
import { guarded } from '../shared/guarded.js';
import { uuidv7 } from '../shared/ids.js';
import { isValidTimeZone } from '../shared/time-zone.js';
import type { GatewayEvents } from './events.js';
import { localTime, minutesOf } from '../shared/local-time.js';
import type { RuntimeConfig } from './runtime-config.js';
import type { SessionManager } from './sessions.js';
import { KV } from './store/kv.js';
import type { GatewayStore, Tx } from './store/store.js';

export type TimetableData = CommandData<'timetable.set'>;

export interface CronJob {
  destroy(): void;
}

/** The part of node-cron used here, injectable so tests can fire jobs without waiting a week. */
export type CronScheduler = (expression: string, run: () => void, timezone: string) => CronJob;

export const nodeCronScheduler: CronScheduler = (expression, run, timezone) => {
  const task = cron.schedule(expression, () => run(), { timezone, noOverlap: true });
  return { destroy: () => void task.destroy() };
};

/** A cron callback that throws must not take the daemon down. */
const ACTION_FAILED = 'timetable action failed';

export class TimetableError extends Error {
  readonly code = 'invalid_timetable';
}

/** Checks what the schema cannot: a known time zone, and each slot ending after it starts. */
export function validateTimetable(t: TimetableData): void {
  if (!isValidTimeZone(t.timezone)) throw new TimetableError(`unknown time zone ${t.timezone}`);
  t.slots.forEach((s, i) => {
    if (minutesOf(s.end) <= minutesOf(s.start)) throw new TimetableError(`slots[${i}]: end ${s.end} must be after start ${s.start}`);
  });
}

function slotKey(s: TimetableSlot): string {
  return `${s.weekday}|${s.start}|${s.end}|${s.course_id}`;
}

export interface TimetableDeps {
  store: GatewayStore;
  events: GatewayEvents;
  sessions: SessionManager;
  runtime: RuntimeConfig;
  log: Logger;
  schedule?: CronScheduler;
  now?: () => number;
}

export class Timetable {
  private jobs: CronJob[] = [];
  private readonly now: () => number;

  constructor(private readonly deps: TimetableDeps) {
    this.now = deps.now ?? Date.now;
  }

  start(): void {
    this.deps.events.on('timetable.changed', this, () => this.reload());
    this.reload();
  }

  stop(): void {
    this.deps.events.off(this);
    this.cancelJobs();
  }

  /** Stores a new timetable, as part of the command's transaction `tx`; jobs follow its commit. */
  setInTx(tx: Tx, t: TimetableData): void {
    validateTimetable(t);
    this.deps.store.kv.set(KV.timetable, t);
    tx.afterCommit(() => this.deps.events.emit('timetable.changed'));
  }

  reload(): void {
    this.cancelJobs();
    const t = this.deps.store.kv.get<TimetableData>(KV.timetable);
    if (!t) return;
    const schedule = this.deps.schedule ?? nodeCronScheduler;
    for (const slot of t.slots) {
      const [sh, sm] = slot.start.split(':').map(Number);
      const [eh, em] = slot.end.split(':').map(Number);
      this.jobs.push(schedule(`${sm} ${sh} * * ${slot.weekday}`, () => guarded(this.deps.log, 'start', ACTION_FAILED, () => this.startSlot(t, slot)), t.timezone));
      this.jobs.push(schedule(`${em} ${eh} * * ${slot.weekday}`, () => guarded(this.deps.log, 'end', ACTION_FAILED, () => this.endSlot(slot)), t.timezone));
    }
    this.deps.log.info({ slots: t.slots.length, timezone: t.timezone }, 'timetable scheduled');
    guarded(this.deps.log, 'catch-up', ACTION_FAILED, () => this.catchUp(t));
  }

  private cancelJobs(): void {
    for (const job of this.jobs) job.destroy();
    this.jobs = [];
  }

  /** Starts the slot we are in, if any, when it has not run today. */
  catchUp(t: TimetableData): void {
    const local = localTime(this.now(), t.timezone);
    for (const slot of t.slots) {
      const inSlot = slot.weekday === local.weekday && local.secondOfDay >= minutesOf(slot.start) * 60 && local.secondOfDay < minutesOf(slot.end) * 60;
      if (inSlot) this.startSlot(t, slot);
    }
  }

  startSlot(t: TimetableData, slot: TimetableSlot): void {
    const { store, sessions, runtime, log } = this.deps;
    const now = this.now();
    const local = localTime(now, t.timezone);
    const key = slotKey(slot);
    const started = store.kv.get<Record<string, string>>(KV.timetableRuns) ?? {};
    if (started[key] === local.date) return;
    const live = sessions.live();
    if (live) {
      log.info({ course: slot.course_id, liveSession: live.id }, 'timetable start skipped: a session is already live');
      return;
    }
    const endsAt = now + (minutesOf(slot.end) * 60 - local.secondOfDay) * 1000;
    const id = uuidv7(now);
    store.transaction((tx) => {
      sessions.startInTx(tx, { id, courseId: slot.course_id, periodS: slot.period_s ?? runtime.get().defaultPeriodS, endsAt, source: 'timetable' }, now);
      store.kv.set(KV.timetableRuns, { ...started, [key]: local.date });
    });
    log.info({ sessionId: id, course: slot.course_id, endsAt: new Date(endsAt).toISOString() }, 'timetable session started');
  }

  endSlot(slot: TimetableSlot): void {
    const live = this.deps.sessions.live();
    if (!live || live.source !== 'timetable' || live.courseId !== slot.course_id) return;
    this.deps.sessions.end(live.id, 'timetable', this.now());
    this.deps.log.info({ sessionId: live.id, course: slot.course_id }, 'timetable session ended');
  }

}
