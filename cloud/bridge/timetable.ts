/** A room's timetable as sent to its gateway (`timetable.set`, docs/protocol.md §MQTT). */
import type { CommandData } from '../../shared/mqtt/messages.js';
import type { BridgeDb } from './tables.js';

export async function timetableFor(db: BridgeDb, roomId: string, timezone: string): Promise<CommandData<'timetable.set'>> {
  const slots = await db.selectFrom('course_slots').selectAll().where('room_id', '=', roomId).orderBy('weekday').orderBy('start_time').orderBy('id').execute();
  return {
    timezone,
    slots: slots.map((s) => ({ course_id: s.course_id, weekday: s.weekday, start: s.start_time, end: s.end_time, ...(s.period_s ? { period_s: s.period_s } : {}) })),
  };
}
