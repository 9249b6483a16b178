/**
 * The texts of the absence-warning mails (docs/operations.md, "Absence warnings"): one to a
 * student who newly crossed a course's threshold, and the teacher's digest of the students who
 * newly crossed one in a run. They name people and figures, so they are never logged: the
 * mailer logs only their kind.
 */
import type { MailMessage } from './transport.js';
import type { WarningPeriod } from '../domain/absence-warnings.js';
import type { AbsenceWarningKind } from '../store/schema.js';

export interface MailCourse {
  id: string;
  code: string;
  name: string;
  min_percent: number | null;
  max_consecutive: number | null;
  period: WarningPeriod;
}

export interface MailCrossing {
  kind: AbsenceWarningKind;
  value: number;
}

const periodText = (p: WarningPeriod) => (p.basis === 'term' ? `this term (${p.from} to ${p.to})` : `this month (${p.from} to ${p.to})`);

function crossingText(c: MailCrossing, course: MailCourse, you: boolean): string {
  if (c.kind === 'percentage') return `${you ? 'your' : 'the'} attendance is ${c.value} %, below the course's threshold of ${course.min_percent} %`;
  return `${you ? 'you have' : 'has'} missed the last ${c.value} sessions in a row (the threshold is ${course.max_consecutive})`;
}

export function studentWarningMail(to: { email: string; full_name: string }, course: MailCourse, list: readonly MailCrossing[], publicUrl: string | null): MailMessage {
  return {
    kind: 'absence_warning',
    to: to.email,
    subject: `Attendance warning: ${course.code} ${course.name}`,
    text: [
      `Hello ${to.full_name},`,
      '',
      `your attendance in ${course.code} ${course.name} ${periodText(course.period)} needs attention:`,
      ...list.map((c) => `- ${crossingText(c, course, true)}`),
      '',
      'If an absence had a reason, tell your teacher: an excused absence does not count.',
      ...(publicUrl ? ['', `Your attendance, session by session: ${publicUrl}/console#/student/attendance`] : []),
    ].join('\n'),
  };
}

export interface DigestEntry extends MailCrossing {
  full_name: string;
  email: string;
}

export function teacherDigestMail(to: { email: string; full_name: string }, course: MailCourse, entries: readonly DigestEntry[], publicUrl: string | null): MailMessage {
  const students = new Set(entries.map((e) => e.email)).size;
  return {
    kind: 'absence_warning_digest',
    to: to.email,
    subject: `Absence warnings in ${course.code}: ${students} ${students === 1 ? 'student' : 'students'}`,
    text: [
      `Hello ${to.full_name},`,
      '',
      `${students === 1 ? 'this student has' : 'these students have'} newly crossed an absence-warning threshold of ${course.code} ${course.name} ${periodText(course.period)}:`,
      '',
      ...entries.map((e) => `- ${e.full_name} <${e.email}>: ${crossingText(e, course, false)}`),
      '',
      'Each student is mailed a warning of their own.',
      ...(publicUrl ? ['', `The students currently warned: ${publicUrl}/console#/teacher/warnings?course=${course.id}`] : []),
    ].join('\n'),
  };
}
