/**
 * Courses' recurring timetable slots: weekday, local start and end ("HH:MM" in the institution's
 * time zone), room. The room's gateway gets them all as its timetable (cloud/bridge/timetable.ts).
 */
import { unitOfWork, type Queryable } from './repositories.js';
import type { CourseSlot } from './schema.js';

export class TimetableRepository {
  constructor(private readonly db: Queryable) {}

  get(id: string): Promise<CourseSlot | undefined> {
    return this.db.selectFrom('course_slots').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** A course's slots by weekday and start. */
  ofCourse(courseId: string): Promise<CourseSlot[]> {
    return this.db.selectFrom('course_slots').selectAll().where('course_id', '=', courseId).orderBy('weekday').orderBy('start_time').orderBy('id').execute();
  }

  /** A room's slots of every course, by weekday and start: the timetable its gateway runs. */
  ofRoom(roomId: string): Promise<CourseSlot[]> {
    return this.db.selectFrom('course_slots').selectAll().where('room_id', '=', roomId).orderBy('weekday').orderBy('start_time').orderBy('id').execute();
  }

  /** The room's slots on one weekday, optionally leaving out one course's. */
  inRoomOn(roomId: string, weekday: number, exceptCourseId?: string): Promise<CourseSlot[]> {
    let q = this.db.selectFrom('course_slots').selectAll().where('room_id', '=', roomId).where('weekday', '=', weekday);
    if (exceptCourseId !== undefined) q = q.where('course_id', '!=', exceptCourseId);
    return q.orderBy('start_time').execute();
  }

  async roomHasSlots(roomId: string): Promise<boolean> {
    return (await this.db.selectFrom('course_slots').select('id').where('room_id', '=', roomId).limit(1).executeTakeFirst()) !== undefined;
  }

  async add(slot: CourseSlot): Promise<void> {
    await this.db.insertInto('course_slots').values(slot).execute();
  }

  /** Replaces all of a course's slots in one transaction; returns the rooms the old ones used. */
  replaceForCourse(courseId: string, slots: CourseSlot[]): Promise<string[]> {
    return unitOfWork(this.db, async (_tx, trx) => {
      const before = await trx.selectFrom('course_slots').select('room_id').where('course_id', '=', courseId).execute();
      await trx.deleteFrom('course_slots').where('course_id', '=', courseId).execute();
      if (slots.length) await trx.insertInto('course_slots').values(slots).execute();
      return before.map((b) => b.room_id);
    });
  }

  /** Removes a slot; false when there was none. */
  async remove(id: string): Promise<boolean> {
    const res = await this.db.deleteFrom('course_slots').where('id', '=', id).executeTakeFirst();
    return Number(res.numDeletedRows) === 1;
  }
}
