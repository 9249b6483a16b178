/**
 * A class from the teacher's tap to the attendance list: the cloud, its embedded broker
 * and a gateway process on the virtual radio; students' phones hear the virtual air with noble
 * and submit over HTTP. Remote start → the gateway advertises the session's token within 1 s →
 * submissions accepted → end → the attendance list is right.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedToken, newClassroom, startGateway, startWorld, submit, waitGateway, type RoomGateway, type World } from './world.js';
import type { Classroom, Person } from '../../scripts/classroom/api.js';

const PERIOD_S = 10;
let w: World;
let c: Classroom;
let gw: RoomGateway;

beforeAll(async () => {
  w = await startWorld();
  c = await newClassroom(w, { courseCode: 'NET210', courseName: 'Networks', roomName: 'Lab 2', teacherName: 'Grace Hopper', studentNames: ['Ada Lovelace', 'Alan Turing', 'Edsger Dijkstra', 'Barbara Liskov'],
    // Biometric verification has its own tests (test/cloud/biometric-*); here presence alone decides.
    // The phones here only submit over HTTP; the GATT check-in has its own end-to-end test.
    policy: { require_biometric: false, require_proximity: false } });
  gw = await startGateway(w, c, 'gw-lab2');
  // The gateway on bleno serves the GATT check-in and says so in its status.
  expect((await waitGateway(w, gw.gatewayId, () => true, 1000, 'the gateway')).checkin_service).toBe(true);
}, 90_000);
afterAll(async () => {
  await w?.close();
});

describe('a remote session on a gateway process', () => {
  it('advertises within 1 s of the start, accepts the students who heard it, and ends with the right list', async () => {
    const [ada, alan, , barbara] = c.students as [Person, Person, Person, Person]; // Edsger (the third) never comes
    const tapped = Date.now();
    const start = await w.api.call<{ session_id: string; gateway: { state: string } }>('POST', '/api/v1/teacher/session/start', { token: c.teacher.token, body: { course_id: c.courseId, room_id: c.roomId, period_s: PERIOD_S } });
    expect(start.status).toBe(201);
    expect(start.body.gateway.state).toBe('confirmed');
    const sessionId = start.body.session_id;
    const isOurs = (f: { roomCode: number; w: number; token: string }) => f.roomCode === c.roomCode && f.token === expectedToken(gw.roomSecret, sessionId, f.w);

    const first = await w.phones.waitFor(isOurs, 5000, "the session's token on air");
    expect(first.firstHeardAt - tapped).toBeLessThan(1000);

    // Window 1: Ada and Alan submit what they heard; Ada's phone sends it twice (a replay).
    expect((await submit(w, ada.token, first.frame)).body.status).toBe('accepted');
    expect((await submit(w, alan.token, first.frame)).body.status).toBe('accepted');
    const replay = await submit(w, ada.token, first.frame);
    expect(replay.status).toBe(200);
    expect(replay.body.status).toBe('duplicate');
    // Barbara tries a token nobody advertised.
    const forged = first.frame.slice(0, 18) + '00'.repeat(8);
    expect((await submit(w, barbara.token, forged)).body.error?.code).toBe('token_invalid');

    // Window 2, after the rotation the gateway does by itself: Barbara arrives, Edsger never does.
    const second = await w.phones.waitFor((f) => isOurs(f) && f.w === first.w + 1, (PERIOD_S + 3) * 1000, 'the next window');
    for (const s of [ada, alan, barbara]) expect((await submit(w, s.token, second.frame)).body.status).toBe('accepted');

    const end = await w.api.call<{ gateway: { state: string }; counts: Record<string, number> }>('POST', `/api/v1/teacher/session/${sessionId}/end`, { token: c.teacher.token });
    expect(end.status).toBe(200);
    expect(end.body.gateway.state).toBe('confirmed');

    const list = await w.api.must<{ items: Array<{ full_name: string; status: string; windows_seen: number; windows_total: number }> }>(200, 'GET', `/api/v1/teacher/session/${sessionId}/attendance`, { token: c.teacher.token });
    const byName = Object.fromEntries(list.items.map((i) => [i.full_name, i]));
    expect(byName['Ada Lovelace']).toMatchObject({ status: 'present', windows_seen: 2, windows_total: 2 });
    expect(byName['Alan Turing']).toMatchObject({ status: 'present', windows_seen: 2 });
    expect(byName['Barbara Liskov']).toMatchObject({ status: 'absent', windows_seen: 1 });
    expect(byName['Edsger Dijkstra']).toMatchObject({ status: 'absent', windows_seen: 0 });

    // The cloud took in the gateway's rotations (both windows, each event once); what went on air is recorded on the gateway itself.
    const rotations = await w.cloud.store.db.selectFrom('ingested_events').select('id').where('gateway_id', '=', gw.gatewayId).where('type', '=', 'token.rotated').where('at', '>=', tapped).execute();
    expect(rotations.length).toBeGreaterThanOrEqual(2);

    // And an operator sees the traffic in /metrics.
    const metrics = await (await fetch(`${w.cloud.url}/metrics`)).text();
    expect(metrics).toMatch(/attendance_gateway_events_total\{type="token\.rotated",result="applied"\} [1-9]/);
    expect(metrics).toMatch(/attendance_gateway_commands_published_total\{type="session\.start"\} [1-9]/);
    expect(metrics).toMatch(/attendance_mqtt_link_up 1/);
  }, 60_000);
});

describe('a timetable slot', () => {
  it('is started by the gateway itself and appears in the cloud with the id the gateway chose', async () => {
    const now = new Date();
    const pad = (n: number) => String(n).padStart(2, '0');
    const minuteOfDay = now.getUTCHours() * 60 + now.getUTCMinutes();
    const startMin = Math.min(minuteOfDay, 23 * 60 + 57);
    const hhmm = (m: number) => `${pad(Math.floor(m / 60))}:${pad(m % 60)}`;
    // A slot we are inside of right now: the gateway starts it at once ("catch-up").
    const slot = await w.api.call<{ sent: Array<{ command_id: string | null }> }>('POST', `/api/v1/admin/courses/${c.courseId}/timetable`, {
      token: w.adminToken, body: { weekday: now.getUTCDay(), start: hhmm(startMin), end: hhmm(startMin + 2), room_id: c.roomId, period_s: PERIOD_S },
    });
    expect(slot.status).toBe(201);
    expect(slot.body.sent[0]?.command_id).toEqual(expect.any(String));

    const deadline = Date.now() + 15_000;
    let session: { session_id: string; source: string; state: string } | undefined;
    while (!session && Date.now() < deadline) {
      const list = await w.api.must<{ items: Array<{ session_id: string; source: string; state: string }> }>(200, 'GET', `/api/v1/teacher/sessions?course_id=${c.courseId}`, { token: c.teacher.token });
      session = list.items.find((s) => s.source === 'timetable' && s.state === 'live');
      if (!session) await new Promise((r) => setTimeout(r, 100));
    }
    expect(session).toBeDefined();
    const heard = await w.phones.waitFor((f) => f.roomCode === c.roomCode && f.token === expectedToken(gw.roomSecret, session!.session_id, f.w), 5000, 'the timetable session on air');
    expect((await submit(w, c.students[0]!.token, heard.frame)).body.status).toBe('accepted');
    const end = await w.api.call<{ gateway: { state: string } }>('POST', `/api/v1/teacher/session/${session!.session_id}/end`, { token: c.teacher.token });
    expect(end.status).toBe(200);
    expect(end.body.gateway.state).toBe('confirmed');
  }, 40_000);
});
