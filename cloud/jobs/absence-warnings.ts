/**
 * The absence-warning job (docs/operations.md, "Absence warnings"). For every course with
 * thresholds it works out which enrolled students are past one now (the analytics percentage over
 * the course's term or the current month, the absences in a row), records each new crossing
 * (course, student, kind) and deletes those no longer crossed, so a student is warned once per
 * crossing and again after a recovery and a new fall. Then it mails each student with a crossing
 * not yet mailed, and the teacher one digest per course of the crossings not yet in a digest. A
 * mail counts as sent only once the mail server accepted it (`Mailer.deliver`): one that fails is
 * sent on the next run. The log holds counts only, never a mail's text or an address.
 */
import type { Logger } from 'pino';
import type { Store } from '../store/db.js';
import type { Mailer } from '../mail/transport.js';
import type { AbsenceWarningKind, AbsenceWarningSettings, AttendanceStatus } from '../store/schema.js';
import type { WarnedStudent } from '../store/absence-warnings.js';
import { crossings, warningPeriod } from '../domain/absence-warnings.js';
import { localDateOf, localDateRange } from '../domain/analytics-calendar.js';
import { studentWarningMail, teacherDigestMail, type MailCourse } from '../mail/absence-mail.js';
import { startScheduledJob, type ScheduledJob } from './scheduled-job.js';

/** Every hour at 23 minutes past: off the hour, away from other installations' jobs. */
export const ABSENCE_WARNINGS_SCHEDULE = '23 * * * *';

export interface AbsenceWarningCounts {
  /** Courses with thresholds looked at. */
  courses: number;
  /** New crossings recorded, and crossings cleared because the student recovered (or a rule was turned off). */
  crossed: number;
  cleared: number;
  /** Mails to students the mail server accepted, and those it did not (retried next run). */
  studentMails: number;
  studentMailsFailed: number;
  digests: number;
  digestsFailed: number;
}

export interface AbsenceWarningRunOptions {
  store: Store;
  mailer: Mailer;
  clock: () => number;
  timezone: string;
  /** Base of the links in the mails; none without it. */
  publicUrl: string | null;
}

const zero = (): AbsenceWarningCounts => ({ courses: 0, crossed: 0, cleared: 0, studentMails: 0, studentMailsFailed: 0, digests: 0, digestsFailed: 0 });

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

async function runCourse(opts: AbsenceWarningRunOptions, settings: AbsenceWarningSettings, counts: AbsenceWarningCounts): Promise<void> {
  const { store, mailer, clock, timezone: tz, publicUrl } = opts;
  const course = await store.courses.get(settings.course_id);
  if (!course) return;
  counts.courses++;
  const term = course.term_id ? await store.courses.getTerm(course.term_id) : undefined;
  const period = warningPeriod(term, localDateOf(clock(), tz));
  const range = localDateRange(period.from, period.to, tz);
  const [students, byStudent, statuses] = await Promise.all([
    store.courses.enrolledStudents(course.id),
    store.analytics.studentStatusCounts(course.id, range),
    store.absenceWarnings.statusesNewestFirst(course.id, range),
  ]);
  const newestFirst = new Map<string, AttendanceStatus[]>();
  for (const [id, rows] of groupBy(statuses, (s) => s.student_id)) newestFirst.set(id, rows.map((r) => r.status));
  const { added, cleared } = await store.absenceWarnings.reconcile(course.id, crossings(students, byStudent, newestFirst, settings), clock());
  counts.crossed += added;
  counts.cleared += cleared;

  const warned = await store.absenceWarnings.warned(course.id);
  const toStudents = groupBy(warned.filter((w) => w.student_mailed_at === null), (w) => w.student_id);
  const toTeacher = warned.filter((w) => w.teacher_mailed_at === null);
  if (!toStudents.size && !toTeacher.length) return;
  const mailable = await store.absenceWarnings.mailable([...toStudents.keys(), course.teacher_id]);
  const about: MailCourse = { id: course.id, code: course.code, name: course.name, min_percent: settings.min_percent, max_consecutive: settings.max_consecutive, period };

  await Promise.all([...toStudents].map(async ([studentId, list]) => {
    const student = mailable.get(studentId);
    if (!student) return;
    if (await mailer.deliver(studentWarningMail(student, about, list, publicUrl))) {
      await store.absenceWarnings.markStudentMailed(course.id, studentId, list.map((w): AbsenceWarningKind => w.kind), clock());
      counts.studentMails++;
    } else {
      counts.studentMailsFailed++;
    }
  }));

  const teacher = mailable.get(course.teacher_id);
  if (!toTeacher.length || !teacher) return;
  if (await mailer.deliver(teacherDigestMail(teacher, about, toTeacher.map((w: WarnedStudent) => ({ kind: w.kind, value: w.value, full_name: w.full_name, email: w.email })), publicUrl))) {
    await store.absenceWarnings.markTeacherMailed(course.id, toTeacher, clock());
    counts.digests++;
  } else {
    counts.digestsFailed++;
  }
}

/** One run over every course with thresholds (without the job lock: startAbsenceWarningJob takes it). */
export async function runAbsenceWarnings(opts: AbsenceWarningRunOptions): Promise<AbsenceWarningCounts> {
  const counts = zero();
  for (const settings of await opts.store.absenceWarnings.listSettings()) await runCourse(opts, settings, counts);
  return counts;
}

export interface AbsenceWarningJobOptions extends AbsenceWarningRunOptions {
  logger: Logger;
  schedule?: string;
}

export type AbsenceWarningJob = ScheduledJob<AbsenceWarningCounts>;

/**
 * Schedules the run (hourly unless `schedule` says otherwise) under the job lock; the recorded
 * crossings keep a run that starts after another from mailing anyone twice.
 */
export function startAbsenceWarningJob(opts: AbsenceWarningJobOptions): AbsenceWarningJob {
  return startScheduledJob({
    store: opts.store, logger: opts.logger, name: 'absence-warnings', label: 'absence warnings',
    schedule: opts.schedule ?? ABSENCE_WARNINGS_SCHEDULE, timezone: opts.timezone,
    run: () => runAbsenceWarnings(opts),
    logged: (counts) => ({ counts }),
  });
}
