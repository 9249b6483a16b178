/**
 * A small client for the cloud's HTTP API, used by the demo, the end-to-end tests and the
 * benchmarks to set up a classroom the way an admin and a teacher would: over HTTP only.
 */
export interface ApiAnswer<T = Record<string, unknown>> {
  status: number;
  body: T;
}

export class CloudApi {
  constructor(readonly baseUrl: string) {}

  async call<T = Record<string, unknown>>(method: string, path: string, opts: { token?: string; body?: unknown } = {}): Promise<ApiAnswer<T>> {
    const res = await fetch(new URL(path, this.baseUrl), {
      method,
      headers: { ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}), ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}) },
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  }

  /** Like call() but throws with the API's error unless the status is the expected one. */
  async must<T = Record<string, unknown>>(expected: number, method: string, path: string, opts: { token?: string; body?: unknown } = {}): Promise<T> {
    const r = await this.call<T>(method, path, opts);
    if (r.status !== expected) throw new Error(`${method} ${path}: expected ${expected}, got ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }

  async login(email: string, password: string): Promise<string> {
    const r = await this.must<{ access_token: string }>(200, 'POST', '/api/v1/auth/token', { body: { email, password } });
    return r.access_token;
  }
}

export interface Person {
  id: string;
  email: string;
  fullName: string;
  password: string;
  token: string;
}

export interface Classroom {
  admin: string;
  teacher: Person;
  students: Person[];
  roomId: string;
  roomCode: number;
  courseId: string;
}

export interface ClassroomSpec {
  courseCode: string;
  courseName: string;
  roomName: string;
  teacherName: string;
  studentNames: string[];
  /** Course policy fields (min_presence, late_after_min, require_biometric, ...). */
  policy?: Record<string, unknown>;
  /** Distinguishes the e-mail addresses of several classrooms in one database. */
  tag?: string;
}

async function createPerson(api: CloudApi, admin: string, role: 'teacher' | 'student', fullName: string, tag: string): Promise<Person> {
  const email = `${fullName.toLowerCase().replace(/[^a-z]+/g, '.')}${tag}@uni.example`;
  const password = `pw-${Math.random().toString(36).slice(2)}-${Date.now()}`;
  const u = await api.must<{ id: string }>(201, 'POST', '/api/v1/admin/users', { token: admin, body: { email, full_name: fullName, password, role } });
  return { id: u.id, email, fullName, password, token: await api.login(email, password) };
}

/** Creates a teacher, students, a room and a course with the students enrolled. */
export async function createClassroom(api: CloudApi, adminToken: string, spec: ClassroomSpec): Promise<Classroom> {
  const tag = spec.tag ?? '';
  const teacher = await createPerson(api, adminToken, 'teacher', spec.teacherName, tag);
  const students: Person[] = [];
  for (const name of spec.studentNames) students.push(await createPerson(api, adminToken, 'student', name, tag));
  const room = await api.must<{ id: string; room_code: number }>(201, 'POST', '/api/v1/admin/rooms', { token: adminToken, body: { name: spec.roomName } });
  const course = await api.must<{ id: string }>(201, 'POST', '/api/v1/admin/courses', { token: adminToken, body: { code: spec.courseCode, name: spec.courseName, teacher_id: teacher.id, ...(spec.policy ? { policy: spec.policy } : {}) } });
  if (students.length) {
    await api.must(200, 'POST', `/api/v1/admin/courses/${course.id}/enrollments`, { token: adminToken, body: { student_ids: students.map((s) => s.id) } });
  }
  return { admin: adminToken, teacher, students, roomId: room.id, roomCode: room.room_code, courseId: course.id };
}
