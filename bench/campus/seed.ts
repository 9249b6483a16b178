/**
 * Seeds the campus into a fresh database: the schema is migrated by composing the cloud once in
 * this process (MQTT off), the rows go in as multi-row inserts in one transaction, and the JWTs of
 * the teachers and of the students who will check in are issued with the signing key the instances
 * share. Gateways are provisioned as an admin would (a row with the SHA-256 of a random secret).
 */
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { hashSecret, newSecret } from '../../cloud/auth/secrets.js';
import { loadCloudConfig } from '../../cloud/config.js';
import { composeCloud } from '../../cloud/main.js';
import { uuidv7 } from '../../shared/ids.js';
import { coursesOfStudent, roomOfCourse, type CampusPlan } from './plan.js';

export interface SeededRoom { id: string; code: number; secret: string; gatewayId: string; gatewayPassword: string }
export interface Campus {
  rooms: SeededRoom[];
  courseIds: string[];
  /** The JWT of course c's teacher (one teacher per room). */
  teacherAuth: (course: number) => string;
  /** JWTs of the students who check in, by student index. */
  studentAuth: Map<number, string>;
}

const chunks = <T>(xs: T[], n = 1000) => Array.from({ length: Math.ceil(xs.length / n) }, (_, k) => xs.slice(k * n, (k + 1) * n));

export async function seedCampus(o: { plan: CampusPlan; databaseUrl: string; dataDir: string; jwtSecretFile: string; checkingIn: Set<number>; tag: string }): Promise<Campus> {
  const { plan } = o;
  const config = loadCloudConfig({ ATTENDANCE_DATA_DIR: o.dataDir, DATABASE_URL: o.databaseUrl, MQTT_DISABLED: 'true', ATTENDANCE_JWT_SECRET_FILE: o.jwtSecretFile, ATTENDANCE_TOKEN_TTL_S: '86400' });
  const cloud = await composeCloud(config, { logger: pino({ level: 'silent' }) });
  try {
    const db = cloud.store.db;
    const now = Date.now();
    const teacherIds = Array.from({ length: plan.rooms }, () => uuidv7());
    const studentIds = Array.from({ length: plan.students }, () => uuidv7());
    const courseIds = Array.from({ length: plan.courses }, () => uuidv7());
    const rooms: SeededRoom[] = Array.from({ length: plan.rooms }, (_, r) => ({ id: uuidv7(), code: 100_000 + r, secret: randomBytes(32).toString('hex'), gatewayId: `campus-${o.tag}-${r}`, gatewayPassword: newSecret() }));
    await db.transaction().execute(async (trx) => {
      const users = [
        ...teacherIds.map((id, i) => ({ id, email: `t${i}@campus.example`, full_name: `Teacher ${i}`, role: 'teacher' as const, password_hash: 'x', created_at: now })),
        ...studentIds.map((id, i) => ({ id, email: `s${i}@campus.example`, full_name: `Student ${i}`, role: 'student' as const, password_hash: 'x', created_at: now })),
      ];
      for (const c of chunks(users)) await trx.insertInto('users').values(c).execute();
      for (const c of chunks(rooms.map((r, i) => ({ id: r.id, name: `Room ${i}`, room_code: r.code, secret: r.secret, created_at: now })))) await trx.insertInto('rooms').values(c).execute();
      const gateways = rooms.map((r) => ({ id: r.gatewayId, room_id: r.id, secret_hash: hashSecret(r.gatewayPassword), created_at: now, created_by: null, revoked_at: null, state: 'never_connected', rejected_events: 0 }));
      for (const c of chunks(gateways)) await trx.insertInto('gateways').values(c as never).execute();
      const courses = courseIds.map((id, c) => ({ id, code: `C${c}`, name: `Course ${c}`, teacher_id: teacherIds[roomOfCourse(plan, c)]!, term_id: null, min_presence: 0.75, late_after_s: 600, require_biometric: 0, min_attendance_pct: 75, grace_s: 60, created_at: now }));
      for (const c of chunks(courses)) await trx.insertInto('courses').values(c as never).execute();
      const enrollments = studentIds.flatMap((id, i) => coursesOfStudent(plan, i).map((c) => ({ course_id: courseIds[c]!, student_id: id, created_at: now })));
      for (const c of chunks(enrollments, 2000)) await trx.insertInto('enrollments').values(c).execute();
    });
    const teacherAuth = await Promise.all(teacherIds.map(async (id) => (await cloud.deps.tokens.issue({ id, role: 'teacher' })).token));
    const studentAuth = new Map<number, string>();
    for (const i of o.checkingIn) studentAuth.set(i, (await cloud.deps.tokens.issue({ id: studentIds[i]!, role: 'student' })).token);
    return { rooms, courseIds, teacherAuth: (c) => teacherAuth[roomOfCourse(plan, c)]!, studentAuth };
  } finally {
    await cloud.stop();
  }
}
