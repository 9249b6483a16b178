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
import { audit } from '../../store/audit.js';
import { getCourse } from '../../store/courses.js';
import { cancelPending, enqueueCommand } from '../../bridge/command-store.js';
import { activeGatewayForRoom } from '../../bridge/gateway-store.js';
import { timetableFor } from '../../bridge/timetable.js';
import { gatewayDb, type CourseSlot } from '../../bridge/tables.js';
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
  const { clock } = deps;
  const db = gatewayDb(deps.store.db);

  async function mustGetCourse(courseId: string) {
    const c = await getCourse(deps.store.db, courseId);
    if (!c) throw notFound('course');
    return c;
  }

  /** A room holds one class at a time: a new slot may not overlap another course's (or its own). */
  async function assertFree(slots: Array<z.infer<typeof slotIn>>, courseId: string, replacing: boolean): Promise<void> {
    for (const [i, s] of slots.entries()) {
      if (!(await db.selectFrom('rooms').select('id').where('id', '=', s.room_id).executeTakeFirst())) throw new HttpError(422, 'unknown_room', `slots[${i}]: room_id names no room`);
      let q = db.selectFrom('course_slots').selectAll().where('room_id', '=', s.room_id).where('weekday', '=', s.weekday);
      if (replacing) q = q.where('course_id', '!=', courseId);
      const others = [...(await q.execute()).map((o) => ({ start: o.start_time, end: o.end_time })), ...slots.filter((o, j) => j !== i && o.room_id === s.room_id && o.weekday === s.weekday)];
      const clash = others.find((o) => minutes(o.start) < minutes(s.end) && minutes(s.start) < minutes(o.end));
      if (clash) throw new HttpError(409, 'slot_overlaps', `slots[${i}] overlaps ${clash.start}-${clash.end} in the same room`);
    }
  }

  /** Queues each room's whole timetable for its gateway (the newest replaces an unsent older one). */
  async function pushRooms(roomIds: Iterable<string>): Promise<z.infer<typeof pushOut>> {
    const out: z.infer<typeof pushOut> = [];
    for (const roomId of new Set(roomIds)) {
      if (!(await activeGatewayForRoom(db, roomId))) {
        out.push({ room_id: roomId, command_id: null }); // sent when a gateway is provisioned
        continue;
      }
      if (deps.gateways) {
        out.push({ room_id: roomId, command_id: (await deps.gateways.pushTimetable(roomId)).id });
      } else {
        await cancelPending(db, roomId, 'timetable.set', clock());
        const cmd = await enqueueCommand(db, { roomId, type: 'timetable.set', data: await timetableFor(db, roomId, deps.settings.timezone), now: clock() });
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
      const rows = await db.selectFrom('course_slots').selectAll().where('course_id', '=', course.id).orderBy('weekday').orderBy('start_time').execute();
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
      await db.insertInto('course_slots').values(row).execute();
      await audit(deps.store.db, { at: now, actorId: user.id, action: 'timetable.add', target: course.id, details: { slot: row.id } });
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
      const before = await db.selectFrom('course_slots').select('room_id').where('course_id', '=', course.id).execute();
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom('course_slots').where('course_id', '=', course.id).execute();
        if (rows.length) await trx.insertInto('course_slots').values(rows).execute();
      });
      await audit(deps.store.db, { at: now, actorId: user.id, action: 'timetable.replace', target: course.id, details: { slots: rows.length } });
      return { items: rows.map(slotView), sent: await pushRooms([...before.map((b) => b.room_id), ...rows.map((r) => r.room_id)]) };
    },
  );

  routes.add(
    {
      method: 'delete', path: '/api/v1/admin/courses/:id/timetable/:slot_id', tag: 'timetable', auth: ADMIN, summary: 'Remove a slot',
      params: z.object({ id, slot_id: id }), response: z.object({ sent: pushOut }), errors: [[404, 'not_found']],
    },
    async ({ params, user }) => {
      const slot = await db.selectFrom('course_slots').selectAll().where('id', '=', params.slot_id).where('course_id', '=', params.id).executeTakeFirst();
      if (!slot) throw notFound('slot');
      await db.deleteFrom('course_slots').where('id', '=', slot.id).execute();
      await audit(deps.store.db, { at: clock(), actorId: user.id, action: 'timetable.remove', target: params.id, details: { slot: slot.id } });
      return { sent: await pushRooms([slot.room_id]) };
    },
  );
}
