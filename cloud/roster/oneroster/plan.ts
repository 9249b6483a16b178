/**
 * Works out what an import changes, without writing: the parsed bundle against what the database
 * holds. Rows are matched by sourcedId; an account without one is adopted by its e-mail only when
 * that address is proved (an unconfirmed self-registration is not the institution's person).
 * Everything a row cannot do is a rejection with its reason; counts say what was created, updated,
 * left unchanged or deleted (accounts deactivated, enrolments removed).
 */
import { uuidv7 } from '../../../shared/ids.js';
import { policyColumns } from '../../store/courses.js';
import type { RosterAccount, RosterCourse, RosterSnapshot, RosterWrites } from '../../store/oneroster.js';
import type { TermsTable } from '../../store/schema.js';
import { DEFAULT_POLICY } from '../../domain/policy.js';
import type { ParsedBundle, Rejection } from './parse.js';

export interface KindCounts {
  created: number;
  updated: number;
  unchanged: number;
  deleted: number;
}

export type Kind = 'terms' | 'accounts' | 'courses' | 'enrollments';

export interface Plan {
  writes: RosterWrites;
  counts: Record<Kind, KindCounts>;
  rejected: Rejection[];
  /** Accounts whose tokens die (deactivated or role changed) and courses whose enrolments changed, for the events after commit. */
  revokedAccounts: string[];
  changedCourses: string[];
}

const zero = (): KindCounts => ({ created: 0, updated: 0, unchanged: 0, deleted: 0 });

/** `unusableHash` is the password hash imported accounts get: of a random password nobody knows. */
export function planImport(parsed: ParsedBundle, snap: RosterSnapshot, now: number, unusableHash: string): Plan {
  const writes: RosterWrites = { newAccounts: [], accountUpdates: [], newTerms: [], termUpdates: [], newCourses: [], courseUpdates: [], newEnrollments: [], adoptedEnrollments: [], removedEnrollments: [] };
  const counts: Record<Kind, KindCounts> = { terms: zero(), accounts: zero(), courses: zero(), enrollments: zero() };
  const rejected = [...parsed.rejected];
  const revoked = new Set<string>();
  const changedCourses = new Set<string>();
  const newId = () => uuidv7(now);

  // Terms.
  const termsBySid = new Map(snap.terms.flatMap((t) => (t.sourced_id ? [[t.sourced_id, t] as const] : [])));
  const termNames = new Map(snap.terms.map((t) => [t.name, t]));
  for (const s of parsed.sessions) {
    if (s.deleted) continue; // a term is never deleted: its courses and records keep it
    const existing = termsBySid.get(s.sourcedId);
    const holder = termNames.get(s.title);
    if (holder && holder.sourced_id !== s.sourcedId) {
      rejected.push({ file: s.file, line: s.line, sourcedId: s.sourcedId, reason: `a term named ${JSON.stringify(s.title)} exists` });
      continue;
    }
    const row: TermsTable = { id: existing?.id ?? newId(), name: s.title, starts_on: s.startDate, ends_on: s.endDate, sourced_id: s.sourcedId };
    if (!existing) {
      writes.newTerms.push(row);
      counts.terms.created++;
    } else if (existing.name !== row.name || existing.starts_on !== row.starts_on || existing.ends_on !== row.ends_on) {
      writes.termUpdates.push(row);
      termNames.delete(existing.name);
      counts.terms.updated++;
    } else {
      counts.terms.unchanged++;
    }
    termsBySid.set(s.sourcedId, row);
    termNames.set(row.name, row);
  }

  // Accounts.
  const accountsBySid = new Map<string, RosterAccount>();
  const accountsByEmail = new Map<string, RosterAccount>();
  for (const a of snap.accounts) {
    if (a.sourced_id) accountsBySid.set(a.sourced_id, a);
    accountsByEmail.set(a.email, a);
  }
  for (const u of parsed.users) {
    let existing = accountsBySid.get(u.sourcedId);
    const reject = (reason: string) => rejected.push({ file: u.file, line: u.line, sourcedId: u.sourcedId, reason });
    if (u.deleted) {
      if (!existing) continue; // never imported: nothing to deactivate
      if (existing.deactivated_at === null) {
        writes.accountUpdates.push({ id: existing.id, set: { deactivated_at: now }, revoke: true });
        accountsBySid.set(u.sourcedId, { ...existing, deactivated_at: now });
        revoked.add(existing.id);
        counts.accounts.deleted++;
      } else {
        counts.accounts.unchanged++;
      }
      continue;
    }
    const holder = accountsByEmail.get(u.email);
    if (holder && holder !== existing) {
      if (holder.sourced_id !== null) {
        reject(`the e-mail ${u.email} belongs to another account of the student information system`);
        continue;
      }
      if (existing) {
        reject(`the e-mail ${u.email} belongs to another account`);
        continue;
      }
      if (holder.email_verified_at === null) {
        reject(`the e-mail ${u.email} belongs to an account whose holder has not confirmed it`);
        continue;
      }
      existing = holder; // an account made in the cloud, for a proved address: it becomes the roster's
    }
    const role = u.role!;
    const deactivatedAt = u.enabled ? null : (existing?.deactivated_at ?? now);
    if (!existing) {
      const id = newId();
      const row = { id, email: u.email, full_name: u.fullName, role, password_hash: unusableHash, created_at: now, token_version: 0, deactivated_at: deactivatedAt, email_verified_at: now, sourced_id: u.sourcedId };
      writes.newAccounts.push(row);
      counts.accounts.created++;
      accountsBySid.set(u.sourcedId, row);
      accountsByEmail.set(u.email, row);
      continue;
    }
    const set: RosterWrites['accountUpdates'][number]['set'] = {};
    if (existing.sourced_id !== u.sourcedId) set.sourced_id = u.sourcedId;
    if (existing.email !== u.email) set.email = u.email;
    if (existing.full_name !== u.fullName) set.full_name = u.fullName;
    if (existing.role !== role) set.role = role;
    if ((existing.deactivated_at === null) !== (deactivatedAt === null)) set.deactivated_at = deactivatedAt;
    if (existing.email_verified_at === null) set.email_verified_at = now;
    const revoke = set.role !== undefined || set.deactivated_at !== undefined;
    if (Object.keys(set).length === 0) {
      counts.accounts.unchanged++;
    } else {
      writes.accountUpdates.push({ id: existing.id, set, revoke });
      if (revoke) revoked.add(existing.id);
      if (set.deactivated_at !== undefined && set.deactivated_at !== null) counts.accounts.deleted++;
      else counts.accounts.updated++;
      if (set.email !== undefined) accountsByEmail.delete(existing.email);
    }
    const after = { ...existing, ...set };
    accountsBySid.set(u.sourcedId, after);
    accountsByEmail.set(after.email, after);
  }

  // Courses: one per class, taught by its primary teacher.
  const primaryTeacher = new Map<string, string>();
  for (const e of parsed.enrollments) {
    if (!e.deleted && e.role === 'teacher' && e.primary && !primaryTeacher.has(e.classSourcedId)) primaryTeacher.set(e.classSourcedId, e.userSourcedId);
  }
  const coursesBySid = new Map(snap.courses.flatMap((c) => (c.sourced_id ? [[c.sourced_id, c] as const] : [])));
  const courseCodes = new Map(snap.courses.map((c) => [c.code, c]));
  for (const k of parsed.classes) {
    if (k.deleted) continue; // a course is never deleted: its sessions and records stay
    const reject = (reason: string) => rejected.push({ file: k.file, line: k.line, sourcedId: k.sourcedId, reason });
    const existing = coursesBySid.get(k.sourcedId);
    const teacherSid = primaryTeacher.get(k.sourcedId);
    const teacher = teacherSid === undefined ? undefined : accountsBySid.get(teacherSid);
    const teacherId = teacher?.role === 'teacher' ? teacher.id : existing?.teacher_id;
    if (teacherId === undefined) {
      reject(teacherSid === undefined ? 'no enrolment names a primary teacher for this class' : `the primary teacher ${teacherSid} is not an imported teacher account`);
      continue;
    }
    const holder = courseCodes.get(k.classCode);
    if (holder && holder.sourced_id !== k.sourcedId) {
      reject(`a course with the code ${k.classCode} exists`);
      continue;
    }
    const term = k.termSourcedIds.map((t) => termsBySid.get(t)).find((t) => t !== undefined);
    const row: RosterCourse = { id: existing?.id ?? newId(), code: k.classCode, name: k.title, teacher_id: teacherId, term_id: term?.id ?? existing?.term_id ?? null, sourced_id: k.sourcedId };
    if (!existing) {
      writes.newCourses.push({ ...row, ...policyColumns(DEFAULT_POLICY), created_at: now });
      counts.courses.created++;
    } else if (existing.code !== row.code || existing.name !== row.name || existing.teacher_id !== row.teacher_id || existing.term_id !== row.term_id) {
      writes.courseUpdates.push(row);
      courseCodes.delete(existing.code);
      counts.courses.updated++;
    } else {
      counts.courses.unchanged++;
    }
    coursesBySid.set(k.sourcedId, row);
    courseCodes.set(row.code, row);
  }

  // Students' enrolments.
  const enrolled = new Map(snap.enrollments.map((e) => [`${e.course_id}|${e.student_id}`, e]));
  const named = new Set<string>();
  for (const e of parsed.enrollments) {
    if (e.role !== 'student') continue; // teachers' rows name the course's teacher, above
    const reject = (reason: string) => rejected.push({ file: e.file, line: e.line, sourcedId: e.sourcedId, reason });
    const course = coursesBySid.get(e.classSourcedId);
    const student = accountsBySid.get(e.userSourcedId);
    const key = course && student ? `${course.id}|${student.id}` : '';
    const current = enrolled.get(key);
    if (e.deleted) {
      if (current) {
        writes.removedEnrollments.push({ course_id: current.course_id, student_id: current.student_id });
        enrolled.delete(key);
        changedCourses.add(current.course_id);
        counts.enrollments.deleted++;
      }
      continue;
    }
    if (!course) {
      reject(`the class ${e.classSourcedId} is not an imported course`);
      continue;
    }
    if (!student || student.role !== 'student') {
      reject(`the user ${e.userSourcedId} is not an imported student account`);
      continue;
    }
    named.add(key);
    if (!current) {
      const row = { course_id: course.id, student_id: student.id, sourced_id: e.sourcedId, created_at: now };
      writes.newEnrollments.push(row);
      enrolled.set(key, row);
      changedCourses.add(course.id);
      counts.enrollments.created++;
    } else if (current.sourced_id !== e.sourcedId) {
      writes.adoptedEnrollments.push({ ...current, sourced_id: e.sourcedId });
      enrolled.set(key, { ...current, sourced_id: e.sourcedId });
      counts.enrollments.updated++;
    } else {
      counts.enrollments.unchanged++;
    }
  }
  // A bulk enrollments.csv is the whole roster: an imported enrolment it no longer names is removed
  // (enrolments made in the cloud, without a sourcedId, stay).
  if (parsed.modes['enrollments.csv'] === 'bulk') {
    for (const [key, e] of enrolled) {
      if (e.sourced_id === null || named.has(key)) continue;
      writes.removedEnrollments.push({ course_id: e.course_id, student_id: e.student_id });
      changedCourses.add(e.course_id);
      counts.enrollments.deleted++;
    }
  }

  rejected.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
  return { writes, counts, rejected, revokedAccounts: [...revoked], changedCourses: [...changedCourses] };
}
