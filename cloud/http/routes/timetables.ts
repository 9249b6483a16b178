/**
 * A course's recurring timetable slots (docs/operations.md): weekday, start, end, room. After every change
 * each affected room's gateway gets its whole timetable again (`timetable.set`, in the
 * institution's time zone) and starts and ends those sessions itself with node-cron, also
 * while offline. Times are local wall-clock "HH:MM"; weekday 0 is Sunday (docs/protocol.md).
 */
import { z } from 'zod';
import { MAX_PERIOD_S, MIN_PERIOD_S } from '../../../shared/token.js';
import { uuidv7 } from '../../../shared/ids.js';
import { HttpError, notFound } from '../errors.js';
import type { RouteTable } from '../route.js';
import type { AppDeps } from '../deps.js';
import type { CourseSlot } from '../../store/schema.js';
import { queueTimetable } from '../../bridge/timetable.js';
import { id, idParams } from '../schemas.js';

const ADMIN = ['admin'] as const;
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24 h)');
const minutes = (t: string) => Number(t.slice(0, 2)) * 60 + Number(t.slice(3, 5));

const slotIn = z
  .object({ weekday: z.number().int().min(0).max(6).describe('0 = Sunday'), start: hhmm, end: hhmm, room_id: id, period_s: z.number().int().min(MIN_PERIOD_S).max(MAX_PERIOD_S).optional() })
  .refine((s) => minutes(s.end) > minutes(s.start), { message: 'end must be after start', path: ['end'] });
const slotOut = z.object({ id, course_id: id, weekday: z.number().int(), start: z.string(), end: z.string(), room_id: id, period_s: z.number().int().nullable() });
const pushOut = z.array(z.object({ room_id: id, command_id: z.string().nullable() })).describe('timetable.set queued per affected room (null: the room has no gateway yet)');

function slotView(s: CourseSlot): z.infer<typeof slotOut> {
  return { id: s.id, course_id: s.course_id, weekday: s.weekday, start: s.start_time, end: s.end_time, room_id: s.room_id, period_s: s.period_s };
}

export function timetableRoutes(routes: RouteTable, deps: AppDeps): void {
  const { clock, store } = deps;

  async function mustGetCourse(courseId: string) {
    const c = await store.courses.get(courseId);
    if (!c) throw notFound('course');
    return c;
  }

  /**
   * A room holds one class at a time: a new slot may not overlap another course's (or its own).
   * `replacing` leaves out the course's own slots (they are all replaced), `changing` the one slot being changed.
   */
  async function assertFree(slots: Array<z.infer<typeof slotIn>>, courseId: string, replacing: boolean, changing?: string): Promise<void> {
    for (const [i, s] of slots.entries()) {
      if (!(await store.rooms.view(s.room_id))) throw new HttpError(422, 'unknown_room', `slots[${i}]: room_id names no room`);
      const taken = (await store.timetable.inRoomOn(s.room_id, s.weekday, replacing ? courseId : undefined)).filter((o) => o.id !== changing);
      const others = [...taken.map((o) => ({ start: o.start_time, end: o.end_time })), ...slots.filter((o, j) => j !== i && o.room_id === s.room_id && o.weekday === s.weekday)];
      const clash = others.find((o) => minutes(o.start) < minutes(s.end) && minutes(s.start) < minutes(o.end));
      if (clash) throw new HttpError(409, 'slot_overlaps', `slots[${i}] overlaps ${clash.start}-${clash.end} in the same room`);
    }
  }

  /** Queues each room's whole timetable for its gateway (the newest replaces an unsent older one). */
  async function pushRooms(roomIds: Iterable<string>): Promise<z.infer<typeof pushOut>> {
    const out: z.infer<typeof pushOut> = [];
    for (const roomId of new Set(roomIds)) {
      if (!(await store.gateways.activeForRoom(roomId))) {
        out.push({ room_id: roomId, command_id: null }); // sent when a gateway is provisioned
        continue;
      }
      if (deps.gateways) {
        out.push({ room_id: roomId, command_id: (await deps.gateways.pushTimetable(roomId)).id });
      } else {
        const cmd = await queueTimetable(store, roomId, deps.settings.timezone, clock());
        out.push({ room_id: roomId, command_id: cmd.id });
      }
    }
    return out;
  }

  routes.add(
    {
      method: 'get', path: '/api/v1/admin/courses/:id/timetable', tag: 'timetable', auth: ADMIN, summary: "A course's recurring slots",
      params: idParams, response: z.object({ timezone: z.string(), items: z.array(slotOut) }), errors: [[404, 'not_found']],
    },
    async ({ params }) => {
      const course = await mustGetCourse(params.id);
      const rows = await store.timetable.ofCourse(course.id);
      return { timezone: deps.settings.timezone, items: rows.map(slotView) };
    },
  );

  routes.add(
    {
      method: 'post', path: '/api/v1/admin/courses/:id/timetable', tag: 'timetable', auth: ADMIN, status: 201, summary: 'Add a recurring slot',
      description: "Local time in the institution's time zone (ATTENDANCE_TIMEZONE). The room's gateway receives its updated timetable.",
      params: idParams, body: slotIn, response: slotOut.extend({ sent: pushOut }), errors: [[404, 'not_found'], [409, 'slot_overlaps'], [422, 'unknown_room']],
    },
    async ({ params, body, user }) => {
      const course = await mustGetCourse(params.id);
      await assertFree([body], course.id, false);
      const now = clock();
      const row: CourseSlot = { id: uuidv7(now), course_id: course.id, room_id: body.room_id, weekday: body.weekday, start_time: body.start, end_time: body.end, period_s: body.period_s ?? null, created_at: now };
      await store.transaction(async (tx) => {
        await tx.timetable.add(row);
        await tx.audit.record({ at: now, actorId: user.id, action: 'timetable.add', target: course.id, details: { slot: row.id } });
      });
      return { ...slotView(row), sent: await pushRooms([row.room_id]) };
    },
  );

  routes.add(
    {
      method: 'put', path: '/api/v1/admin/courses/:id/timetable', tag: 'timetable', auth: ADMIN, summary: "Replace a course's slots",
      params: idParams, body: z.object({ slots: z.array(slotIn).max(100) }), response: z.object({ items: z.array(slotOut), sent: pushOut }),
      errors: [[404, 'not_found'], [409, 'slot_overlaps'], [422, 'unknown_room']],
    },
    async ({ params, body, user }) => {
      const course = await mustGetCourse(params.id);
      await assertFree(body.slots, course.id, true);
      const now = clock();
      const rows: CourseSlot[] = body.slots.map((s, i) => ({ id: uuidv7(now + i), course_id: course.id, room_id: s.room_id, weekday: s.weekday, start_time: s.start, end_time: s.end, period_s: s.period_s ?? null, created_at: now }));
      const before = await store.transaction(async (tx) => {
        const rooms = await tx.timetable.replaceForCourse(course.id, rows);
        await tx.audit.record({ at: now, actorId: user.id, action: 'timetable.replace', target: course.id, details: { slots: rows.length } });
        return rooms;
      });
      return { items: rows.map(slotView), sent: await pushRooms([...before, ...rows.map((r) => r.room_id)]) };
    },
  );

  routes.add(
    {
      method: 'put', path: '/api/v1/admin/courses/:id/timetable/:slot_id', tag: 'timetable', auth: ADMIN, summary: 'Change a slot',
      description: "The slot keeps its id; a `period_s` left out keeps the slot's own. The gateways of the room it left and of the room it is in now receive their updated timetables.",
      params: z.object({ id, slot_id: id }), body: slotIn, response: slotOut.extend({ sent: pushOut }),
      errors: [[404, 'not_found'], [409, 'slot_overlaps'], [422, 'unknown_room']],
    },
    async ({ params, body, user }) => {
      const slot = await store.timetable.get(params.slot_id);
      if (!slot || slot.course_id !== params.id) throw notFound('slot');
      await assertFree([body], slot.course_id, false, slot.id);
      const row: CourseSlot = { ...slot, room_id: body.room_id, weekday: body.weekday, start_time: body.start, end_time: body.end, period_s: body.period_s ?? slot.period_s };
      await store.transaction(async (tx) => {
        await tx.timetable.remove(slot.id);
        await tx.timetable.add(row);
        await tx.audit.record({ at: clock(), actorId: user.id, action: 'timetable.change', target: slot.course_id, details: { slot: slot.id } });
      });
      return { ...slotView(row), sent: await pushRooms([slot.room_id, row.room_id]) };
    },
  );

  routes.add(
    {
      method: 'delete', path: '/api/v1/admin/courses/:id/timetable/:slot_id', tag: 'timetable', auth: ADMIN, summary: 'Remove a slot',
      params: z.object({ id, slot_id: id }), response: z.object({ sent: pushOut }), errors: [[404, 'not_found']],
    },
    async ({ params, user }) => {
      const slot = await store.timetable.get(params.slot_id);
      if (!slot || slot.course_id !== params.id) throw notFound('slot');
      await store.transaction(async (tx) => {
        await tx.timetable.remove(slot.id);
        await tx.audit.record({ at: clock(), actorId: user.id, action: 'timetable.remove', target: params.id, details: { slot: slot.id } });
      });
      return { sent: await pushRooms([slot.room_id]) };
    },
  );
}
