/**
 * Turns the files of a OneRoster 1.1/1.2 CSV bundle into checked records. The bundle as a whole
 * must hold together (a manifest naming each file bulk, delta or absent, exactly those files,
 * each with its required headers), or it is refused with a BundleError; a row that is wrong on its
 * own is rejected with its file, line, sourcedId and reason, and the others go on.
 */
import { z } from 'zod';
import type { Role } from '../../store/schema.js';
import type { BundleFiles, OneRosterFile } from './bundle.js';
import { CsvSyntaxError, readCsv, type CsvRecord } from './csv-reader.js';
import { BundleError } from './errors.js';

export type FileMode = 'bulk' | 'delta' | 'absent';

export interface Rejection {
  file: string;
  line: number;
  sourcedId: string;
  reason: string;
}

interface Row {
  file: OneRosterFile;
  line: number;
  sourcedId: string;
  /** status=tobedeleted. */
  deleted: boolean;
}

export interface SessionRow extends Row {
  title: string;
  startDate: string;
  endDate: string;
}

export interface UserRow extends Row {
  enabled: boolean;
  /** Null for the roles we do not import (parent, guardian, aide, …). */
  role: Role | null;
  email: string;
  fullName: string;
}

export interface ClassRow extends Row {
  title: string;
  classCode: string;
  termSourcedIds: string[];
}

export interface EnrollmentRow extends Row {
  classSourcedId: string;
  userSourcedId: string;
  role: string;
  primary: boolean;
}

export interface ParsedBundle {
  modes: Partial<Record<OneRosterFile, FileMode>>;
  sessions: SessionRow[];
  users: UserRow[];
  classes: ClassRow[];
  enrollments: EnrollmentRow[];
  rejected: Rejection[];
  /** Rows read per file (the progress line and the answer). */
  rows: Partial<Record<OneRosterFile, number>>;
}

const COMMON = ['sourcedId', 'status', 'dateLastModified'];
const HEADERS: Partial<Record<OneRosterFile, string[]>> = {
  'academicSessions.csv': [...COMMON, 'title', 'type', 'startDate', 'endDate'],
  'orgs.csv': [...COMMON, 'name', 'type'],
  'users.csv': [...COMMON, 'enabledUser', 'username', 'givenName', 'familyName', 'email'],
  'roles.csv': [...COMMON, 'userSourcedId', 'roleType', 'role', 'orgSourcedId'],
  'courses.csv': [...COMMON, 'title'],
  'classes.csv': [...COMMON, 'title', 'courseSourcedId', 'classCode', 'schoolSourcedId', 'termSourcedIds'],
  'enrollments.csv': [...COMMON, 'classSourcedId', 'schoolSourcedId', 'userSourcedId', 'role'],
};

/** OneRoster roles we import, and the account role each becomes. */
const ROLES: Record<string, Role> = { student: 'student', teacher: 'teacher', administrator: 'admin' };
const TERM_TYPES = new Set(['term', 'semester']);
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const emailSchema = z.email();

function readManifest(files: BundleFiles): Partial<Record<OneRosterFile, FileMode>> {
  const text = files.get('manifest.csv');
  if (text === undefined) throw new BundleError('missing_file', 'the bundle has no manifest.csv');
  const records = csv('manifest.csv', text);
  const header = records[0]?.fields ?? [];
  if (header[0] !== 'propertyName' || header[1] !== 'value') throw new BundleError('missing_header', 'manifest.csv must start with the header propertyName,value');
  const props = new Map(records.slice(1).map((r) => [r.fields[0] ?? '', (r.fields[1] ?? '').trim()]));
  const version = props.get('oneroster.version');
  if (version !== '1.1' && version !== '1.2') throw new BundleError('unsupported_version', `manifest.csv gives oneroster.version ${JSON.stringify(version ?? '')}; 1.1 and 1.2 are read`);
  const modes: Partial<Record<OneRosterFile, FileMode>> = {};
  for (const [name, value] of props) {
    const m = /^file\.(\w+)$/.exec(name);
    if (!m) continue;
    if (value !== 'bulk' && value !== 'delta' && value !== 'absent') throw new BundleError('manifest_mismatch', `manifest.csv gives ${name} as ${JSON.stringify(value)}; expected bulk, delta or absent`);
    const file = `${m[1]}.csv` as OneRosterFile;
    if (!(file in HEADERS)) continue;
    modes[file] = value;
  }
  for (const file of Object.keys(HEADERS) as OneRosterFile[]) {
    const mode = modes[file] ?? 'absent';
    if (mode !== 'absent' && !files.has(file)) throw new BundleError('missing_file', `manifest.csv lists ${file} as ${mode} but the bundle has no ${file}`);
    if (mode === 'absent' && files.has(file)) throw new BundleError('manifest_mismatch', `the bundle holds ${file} but manifest.csv does not list it as bulk or delta`);
  }
  if (!Object.values(modes).some((m) => m !== 'absent')) throw new BundleError('manifest_mismatch', 'manifest.csv lists no file as bulk or delta');
  return modes;
}

function csv(file: string, text: string): CsvRecord[] {
  try {
    return readCsv(text);
  } catch (e) {
    if (e instanceof CsvSyntaxError) throw new BundleError('malformed_csv', `${file} line ${e.line}: ${e.message}`);
    throw e;
  }
}

/** The rows of one file as objects by header name; a missing required header refuses the bundle. */
function table(files: BundleFiles, file: OneRosterFile, extra: string[] = []): Array<{ line: number; get: (col: string) => string }> {
  const text = files.get(file);
  if (text === undefined) return [];
  const records = csv(file, text);
  const header = (records[0]?.fields ?? []).map((h) => h.trim());
  const missing = [...(HEADERS[file] ?? []), ...extra].filter((h) => !header.includes(h));
  if (missing.length) throw new BundleError('missing_header', `${file} lacks the column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
  const index = new Map(header.map((h, i) => [h, i]));
  return records.slice(1).map((r) => ({ line: r.line, get: (col: string) => (r.fields[index.get(col) ?? -1] ?? '').trim() }));
}

export function parseBundle(files: BundleFiles): ParsedBundle {
  const modes = readManifest(files);
  const out: ParsedBundle = { modes, sessions: [], users: [], classes: [], enrollments: [], rejected: [], rows: {} };
  const reject = (file: OneRosterFile, line: number, sourcedId: string, reason: string) => out.rejected.push({ file, line, sourcedId, reason });

  /** Common columns; undefined (and the row rejected) when the sourcedId is empty, repeated or the status unknown. */
  function base(file: OneRosterFile, r: { line: number; get: (c: string) => string }, seen: Set<string>): Row | undefined {
    const sourcedId = r.get('sourcedId');
    const status = r.get('status');
    if (sourcedId === '') return void reject(file, r.line, '', 'sourcedId is empty');
    if (seen.has(sourcedId)) return void reject(file, r.line, sourcedId, 'this sourcedId appears earlier in the file');
    seen.add(sourcedId);
    if (status !== '' && status !== 'active' && status !== 'tobedeleted') return void reject(file, r.line, sourcedId, `status ${JSON.stringify(status)} is neither active nor tobedeleted`);
    return { file, line: r.line, sourcedId, deleted: status === 'tobedeleted' };
  }

  for (const file of ['orgs.csv', 'courses.csv'] as const) out.rows[file] = table(files, file).length;

  const sessions = table(files, 'academicSessions.csv');
  out.rows['academicSessions.csv'] = sessions.length;
  const seenSessions = new Set<string>();
  for (const r of sessions) {
    const row = base('academicSessions.csv', r, seenSessions);
    if (!row) continue;
    // School years and grading periods are not terms: read, not imported.
    if (!TERM_TYPES.has(r.get('type'))) continue;
    const [title, startDate, endDate] = [r.get('title'), r.get('startDate'), r.get('endDate')];
    if (title === '') reject(row.file, row.line, row.sourcedId, 'title is empty');
    else if (!DATE.test(startDate) || !DATE.test(endDate)) reject(row.file, row.line, row.sourcedId, 'startDate and endDate must be dates (YYYY-MM-DD)');
    else if (endDate < startDate) reject(row.file, row.line, row.sourcedId, 'endDate is before startDate');
    else out.sessions.push({ ...row, title: title.slice(0, 200), startDate, endDate });
  }

  const rolesOf = primaryRoles(files, out, base);
  const users = table(files, 'users.csv', rolesOf ? [] : ['role']);
  out.rows['users.csv'] = users.length;
  const seenUsers = new Set<string>();
  for (const r of users) {
    const row = base('users.csv', r, seenUsers);
    if (!row) continue;
    const sisRole = rolesOf ? (rolesOf.get(row.sourcedId) ?? '') : r.get('role');
    const role = ROLES[sisRole] ?? null;
    const email = r.get('email').toLowerCase();
    const fullName = [r.get('givenName'), r.get('familyName')].filter(Boolean).join(' ').slice(0, 200);
    if (!row.deleted && role === null) continue; // parents, guardians, aides, proctors: not our accounts
    if (!row.deleted && !emailSchema.safeParse(email).success) reject(row.file, row.line, row.sourcedId, 'email is not an e-mail address');
    else if (!row.deleted && fullName === '') reject(row.file, row.line, row.sourcedId, 'givenName and familyName are both empty');
    else out.users.push({ ...row, enabled: r.get('enabledUser').toLowerCase() !== 'false', role, email, fullName });
  }

  const classes = table(files, 'classes.csv');
  out.rows['classes.csv'] = classes.length;
  const seenClasses = new Set<string>();
  for (const r of classes) {
    const row = base('classes.csv', r, seenClasses);
    if (!row) continue;
    const title = r.get('title');
    const classCode = r.get('classCode') || row.sourcedId;
    if (!row.deleted && title === '') reject(row.file, row.line, row.sourcedId, 'title is empty');
    else if (classCode.length > 32) reject(row.file, row.line, row.sourcedId, 'classCode is longer than 32 characters');
    else out.classes.push({ ...row, title: title.slice(0, 200), classCode, termSourcedIds: r.get('termSourcedIds').split(',').map((s) => s.trim()).filter(Boolean) });
  }

  const enrollments = table(files, 'enrollments.csv');
  out.rows['enrollments.csv'] = enrollments.length;
  const seenEnrollments = new Set<string>();
  for (const r of enrollments) {
    const row = base('enrollments.csv', r, seenEnrollments);
    if (!row) continue;
    const [classSourcedId, userSourcedId] = [r.get('classSourcedId'), r.get('userSourcedId')];
    if (classSourcedId === '' || userSourcedId === '') reject(row.file, row.line, row.sourcedId, 'classSourcedId and userSourcedId must be given');
    else out.enrollments.push({ ...row, classSourcedId, userSourcedId, role: r.get('role'), primary: r.get('primary').toLowerCase() === 'true' });
  }
  return out;
}

/**
 * OneRoster 1.2 moved a user's roles out of users.csv into roles.csv: the role of each user's
 * `primary` role row, when the bundle has roles.csv (null otherwise, and users.csv must carry `role`).
 */
function primaryRoles(files: BundleFiles, out: ParsedBundle, base: (f: OneRosterFile, r: { line: number; get: (c: string) => string }, seen: Set<string>) => Row | undefined): Map<string, string> | null {
  if (!files.has('roles.csv')) return null;
  const rows = table(files, 'roles.csv');
  out.rows['roles.csv'] = rows.length;
  const roles = new Map<string, string>();
  const seen = new Set<string>();
  for (const r of rows) {
    const row = base('roles.csv', r, seen);
    if (row && !row.deleted && r.get('roleType') === 'primary') roles.set(r.get('userSourcedId'), r.get('role'));
  }
  return roles;
}
