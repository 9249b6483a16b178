/**
 * The counts of the simulated university at a given scale (1 = 2,000 rooms, 60,000 students) and
 * who is enrolled where. Courses are the rooms' timetable slots (three per room); the courses fall
 * into five groups and each student takes one course of each group, the same position in every group,
 * so every course has the same number of students. The hour that starts takes courses 0..sessions-1:
 * all in group 0, all in different rooms, and so a student is in at most one of them.
 */
export const FULL = { rooms: 2000, students: 60_000, sessions: 1000, checkins: 35_000, checkinSeconds: 360 } as const;
export const SLOTS_PER_ROOM = 3;
export const COURSES_PER_STUDENT = 5;

export interface CampusPlan {
  rooms: number;
  courses: number;
  students: number;
  sessions: number;
  checkins: number;
  /** Courses per group: course c's students are those with index ≡ c (mod groupSize). */
  groupSize: number;
}

export function campusPlan(scale: number): CampusPlan {
  const n = (full: number) => Math.max(1, Math.round(full * scale));
  const rooms = n(FULL.rooms);
  const courses = rooms * SLOTS_PER_ROOM;
  // Rounded up to a multiple of the group size, so that every course has the same students count.
  const groupSize = Math.floor(courses / COURSES_PER_STUDENT);
  const students = Math.max(groupSize, Math.round(n(FULL.students) / groupSize) * groupSize);
  const sessions = Math.min(n(FULL.sessions), rooms, groupSize);
  const checkins = Math.min(n(FULL.checkins), sessions * (students / groupSize));
  return { rooms, courses, students, sessions, checkins, groupSize };
}

/** The room of course c. */
export const roomOfCourse = (plan: CampusPlan, c: number) => c % plan.rooms;

/** The courses of student i, one per group. */
export function coursesOfStudent(plan: CampusPlan, i: number): number[] {
  return Array.from({ length: COURSES_PER_STUDENT }, (_, g) => g * plan.groupSize + (i % plan.groupSize));
}

/** Who checks in where: (student, session) pairs, spread evenly over the sessions. */
export function checkinPairs(plan: CampusPlan): Array<{ student: number; session: number }> {
  const perCourse = plan.students / plan.groupSize;
  const pairs: Array<{ student: number; session: number }> = [];
  for (let k = 0; k < perCourse && pairs.length < plan.checkins; k++) {
    for (let s = 0; s < plan.sessions && pairs.length < plan.checkins; s++) pairs.push({ student: k * plan.groupSize + s, session: s });
  }
  return pairs;
}
