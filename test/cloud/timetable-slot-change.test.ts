/**
 * Changing one timetable slot (PUT /api/v1/admin/courses/:id/timetable/:slot_id): the slot keeps
 * its id and its own period, may overlap its old self but no other slot in the room, names a
 * room that exists, belongs to the course in the path, and only an admin may change it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCloudHarness, type CloudHarness } from '../helpers/cloud.js';

let h: CloudHarness;
beforeAll(async () => {
  h = await createCloudHarness();
});
afterAll(async () => {
  await h?.close();
});

async function fixture() {
  const admin = await h.user('admin');
  const teacher = await h.user('teacher');
  const create = (code: string) => h.http().post('/api/v1/admin/courses').set(admin.auth).send({ code, name: code, teacher_id: teacher.id }).expect(201).then((r) => r.body.id as string);
  const room = (await h.http().post('/api/v1/admin/rooms').set(admin.auth).send({ name: `Room ${admin.id}` }).expect(201)).body.id as string;
  const course = await create(`TT-${admin.id.slice(-6)}`);
  const other = await create(`TO-${admin.id.slice(-6)}`);
  const add = (courseId: string, slot: object) => h.http().post(`/api/v1/admin/courses/${courseId}/timetable`).set(admin.auth).send({ room_id: room, ...slot }).expect(201).then((r) => r.body);
  return { admin, teacher, room, course, other, add };
}

describe('changing a timetable slot', () => {
  it('keeps the id and period, may overlap its old time, not another slot', async () => {
    const f = await fixture();
    const mine = await f.add(f.course, { weekday: 1, start: '09:00', end: '10:00', period_s: 120 });
    await f.add(f.other, { weekday: 2, start: '09:00', end: '10:00' });
    const put = (body: object) => h.http().put(`/api/v1/admin/courses/${f.course}/timetable/${mine.id}`).set(f.admin.auth).send({ room_id: f.room, ...body });

    const later = await put({ weekday: 1, start: '09:30', end: '10:30' });
    expect(later.status).toBe(200);
    expect(later.body).toMatchObject({ id: mine.id, course_id: f.course, weekday: 1, start: '09:30', end: '10:30', room_id: f.room, period_s: 120, sent: [{ room_id: f.room, command_id: null }] });

    const clash = await put({ weekday: 2, start: '09:30', end: '10:30' });
    expect(clash.status).toBe(409);
    expect(clash.body.error.code).toBe('slot_overlaps');
    const backwards = await put({ weekday: 3, start: '11:00', end: '10:00' });
    expect(backwards.status).toBe(400);
    expect(backwards.body.error.details).toEqual([{ path: 'end', message: 'end must be after start' }]);
    const noRoom = await put({ weekday: 3, start: '09:00', end: '10:00', room_id: '00000000-0000-7000-8000-000000000000' });
    expect(noRoom.status).toBe(422);

    const items = (await h.http().get(`/api/v1/admin/courses/${f.course}/timetable`).set(f.admin.auth).expect(200)).body.items;
    expect(items).toEqual([{ id: mine.id, course_id: f.course, weekday: 1, start: '09:30', end: '10:30', room_id: f.room, period_s: 120 }]);
  });

  it("refuses a slot of another course, an unknown slot and a teacher", async () => {
    const f = await fixture();
    const theirs = await f.add(f.other, { weekday: 4, start: '08:00', end: '09:00' });
    const body = { weekday: 4, start: '08:00', end: '08:45', room_id: f.room };
    expect((await h.http().put(`/api/v1/admin/courses/${f.course}/timetable/${theirs.id}`).set(f.admin.auth).send(body)).status).toBe(404);
    expect((await h.http().put(`/api/v1/admin/courses/${f.course}/timetable/00000000-0000-7000-8000-000000000000`).set(f.admin.auth).send(body)).status).toBe(404);
    expect((await h.http().put(`/api/v1/admin/courses/${f.other}/timetable/${theirs.id}`).set(f.teacher.auth).send(body)).status).toBe(403);
    const items = (await h.http().get(`/api/v1/admin/courses/${f.other}/timetable`).set(f.admin.auth).expect(200)).body.items;
    expect(items).toMatchObject([{ id: theirs.id, end: '09:00' }]);
  });
});
