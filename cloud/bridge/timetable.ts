/** A room's timetable as sent to its gateway (`timetable.set`, docs/protocol.md §MQTT). */
import type { CommandData } from '../../shared/mqtt/messages.js';
import type { Repositories } from '../store/repositories.js';
import type { GatewayCommand } from '../store/schema.js';

export async function timetableFor(repos: Pick<Repositories, 'timetable'>, roomId: string, timezone: string): Promise<CommandData<'timetable.set'>> {
  const slots = await repos.timetable.ofRoom(roomId);
  return {
    timezone,
    slots: slots.map((s) => ({ course_id: s.course_id, weekday: s.weekday, start: s.start_time, end: s.end_time, ...(s.period_s ? { period_s: s.period_s } : {}) })),
  };
}

/** Queues the room's whole timetable, superseding an older one that is still pending. */
export async function queueTimetable(repos: Pick<Repositories, 'timetable' | 'commands'>, roomId: string, timezone: string, now: number): Promise<GatewayCommand> {
  return repos.commands.enqueueSuperseding({ roomId, type: 'timetable.set', data: await timetableFor(repos, roomId, timezone), now });
}
