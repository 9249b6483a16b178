/**
 * Builds OneRoster 1.2 CSV bundles as a student information system exports them: a manifest, a
 * school, two semesters in a school year, students and teachers (roles in users.csv's `role`
 * column, as 1.1 exports and many 1.2 exports keep it), classes with their primary teacher and
 * the students' enrolments. Deterministic for a given size. Used by the import tests and the bench.
 */
import fs from 'node:fs';
import path from 'node:path';
import { zipSync, strToU8 } from 'fflate';

export type Bundle = Record<string, string>;

export interface BundleSize {
  students: number;
  teachers: number;
  classes: number;
  /** Enrolments per student, spread over the classes; a fraction spreads evenly (2.5: half the students take 3 classes). */
  classesPerStudent: number;
}

const line = (fields: Array<string | number>) => fields.map((f) => (/[",\n]/.test(String(f)) ? `"${String(f).replaceAll('"', '""')}"` : String(f))).join(',');
const csv = (header: string[], rows: Array<Array<string | number>>) => [line(header), ...rows.map(line)].join('\r\n') + '\r\n';

export const USERS_HEADER = ['sourcedId', 'status', 'dateLastModified', 'enabledUser', 'orgSourcedIds', 'role', 'username', 'userIds', 'givenName', 'familyName', 'middleName', 'identifier', 'email', 'sms', 'phone', 'agentSourcedIds', 'grades', 'password'];
export const ENROLLMENTS_HEADER = ['sourcedId', 'status', 'dateLastModified', 'classSourcedId', 'schoolSourcedId', 'userSourcedId', 'role', 'primary', 'beginDate', 'endDate'];

export function manifest(modes: Record<string, 'bulk' | 'delta' | 'absent'>): string {
  const all = ['academicSessions', 'categories', 'classes', 'classResources', 'courses', 'courseResources', 'demographics', 'enrollments', 'lineItems', 'orgs', 'resources', 'results', 'users'];
  return csv(['propertyName', 'value'], [['manifest.version', '1.0'], ['oneroster.version', '1.2'], ...all.map((f) => [`file.${f}`, modes[f] ?? 'absent']), ['source.systemName', 'Test SIS'], ['source.systemCode', 'tsis']]);
}

export const studentSid = (i: number) => `stu-${i}`;
export const teacherSid = (i: number) => `tea-${i}`;
export const classSid = (i: number) => `cls-${i}`;

export function generateBundle(size: BundleSize): Bundle {
  const stamp = '2026-08-01T00:00:00.000Z';
  const users: Array<Array<string | number>> = [];
  for (let i = 0; i < size.teachers; i++) users.push([teacherSid(i), 'active', stamp, 'true', 'sch-1', 'teacher', `t${i}`, '', 'Teacher', `Number ${i}`, '', '', `teacher${i}@uni.example`, '', '', '', '', '']);
  for (let i = 0; i < size.students; i++) users.push([studentSid(i), 'active', stamp, 'true', 'sch-1', 'student', `s${i}`, `{ldap:s${i}}`, 'Student', `O'Number, ${i}`, '', `M${100000 + i}`, `student${i}@uni.example`, '', '', '', '', '']);
  const classes: Array<Array<string | number>> = [];
  const enrollments: Array<Array<string | number>> = [];
  for (let c = 0; c < size.classes; c++) {
    classes.push([classSid(c), 'active', stamp, `Course ${c}, section A`, `crs-${c}`, `C${c}-A`, 'scheduled', '', 'sch-1', c % 2 ? 'sem-2' : 'sem-1', '', '', '']);
    enrollments.push([`enr-t-${c}`, 'active', stamp, classSid(c), 'sch-1', teacherSid(c % size.teachers), 'teacher', 'true', '', '']);
  }
  for (let s = 0; s < size.students; s++) {
    const first = Math.floor(s * size.classesPerStudent);
    for (let k = 0; k < Math.floor((s + 1) * size.classesPerStudent) - first; k++) {
      const c = (first + k) % size.classes;
      enrollments.push([`enr-${s}-${k}`, 'active', stamp, classSid(c), 'sch-1', studentSid(s), 'student', 'false', '', '']);
    }
  }
  return {
    'manifest.csv': manifest({ academicSessions: 'bulk', orgs: 'bulk', users: 'bulk', courses: 'bulk', classes: 'bulk', enrollments: 'bulk' }),
    'academicSessions.csv': csv(['sourcedId', 'status', 'dateLastModified', 'title', 'type', 'startDate', 'endDate', 'parentSourcedId', 'schoolYear'], [
      ['sy-2026', 'active', stamp, '2026/27', 'schoolYear', '2026-09-01', '2027-07-31', '', '2027'],
      ['sem-1', 'active', stamp, 'Autumn 2026', 'semester', '2026-09-01', '2027-01-31', 'sy-2026', '2027'],
      ['sem-2', 'active', stamp, 'Spring 2027', 'semester', '2027-02-01', '2027-07-31', 'sy-2026', '2027'],
    ]),
    'orgs.csv': csv(['sourcedId', 'status', 'dateLastModified', 'name', 'type', 'identifier', 'parentSourcedId'], [['sch-1', 'active', stamp, 'Faculty of Science', 'school', 'SCI', '']]),
    'users.csv': csv(USERS_HEADER, users),
    'courses.csv': csv(['sourcedId', 'status', 'dateLastModified', 'schoolYearSourcedId', 'title', 'courseCode', 'grades', 'orgSourcedId', 'subjects', 'subjectCodes'], Array.from({ length: size.classes }, (_, c) => [`crs-${c}`, 'active', stamp, 'sy-2026', `Course ${c}`, `C${c}`, '', 'sch-1', '', ''])),
    'classes.csv': csv(['sourcedId', 'status', 'dateLastModified', 'title', 'courseSourcedId', 'classCode', 'classType', 'location', 'schoolSourcedId', 'termSourcedIds', 'subjects', 'subjectCodes', 'periods'], classes),
    'enrollments.csv': csv(ENROLLMENTS_HEADER, enrollments),
  };
}

/** A delta bundle: only the given users and enrolment rows (full rows, with their status). */
export function deltaBundle(users: Array<Array<string | number>>, enrollments: Array<Array<string | number>>): Bundle {
  return {
    'manifest.csv': manifest({ users: 'delta', enrollments: 'delta' }),
    'users.csv': csv(USERS_HEADER, users),
    'enrollments.csv': csv(ENROLLMENTS_HEADER, enrollments),
  };
}

export function zipBundle(bundle: Bundle): Buffer {
  return Buffer.from(zipSync(Object.fromEntries(Object.entries(bundle).map(([n, t]) => [n, strToU8(t)]))));
}

export function writeBundleFolder(dir: string, bundle: Bundle): void {
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(bundle)) fs.writeFileSync(path.join(dir, name), text);
}
