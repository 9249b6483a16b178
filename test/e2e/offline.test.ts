/**
 * The room's network is down for part of the class: the broker is stopped mid-session;
 * the gateway keeps advertising and queues its events; students keep submitting to the cloud over
 * HTTP; when the broker returns the cloud receives every queued event exactly once.
 */
import SqliteDatabase from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedToken, newClassroom, startGateway, startWorld, submit, waitGateway, type RoomGateway, type World } from './world.js';
import type { Classroom, Person } from '../../scripts/classroom/api.js';
import { eventually } from '../helpers/eventually.js';

const PERIOD_S = 10;
let w: World;
let c: Classroom;
let gw: RoomGateway;

/** The broker goes away, and with it everything it held in memory. */
async function stopBroker(): Promise<void> {
  await w.cloud.bridge!.stop();
}

/** The cloud's MQTT side again, on the same port (a broker restart: its memory is empty). */
async function startBroker(): Promise<void> {
  await w.cloud.bridge!.start();
}

beforeAll(async () => {
  w = await startWorld();
  c = await newClassroom(w, { courseCode: 'OS330', courseName: 'Operating Systems', roomName: 'Hall B', teacherName: 'Ken Thompson', studentNames: ['Dennis Ritchie', 'Margaret Hamilton', 'Linus Torvalds'],
    // The phones here only submit over HTTP; the GATT check-in has its own end-to-end test.
    policy: { require_biometric: false, require_proximity: false } });
  gw = await startGateway(w, c, 'gw-hallb');
}, 90_000);
afterAll(async () => {
  await w?.close();
});

/** What the gateway itself recorded as on air (its SQLite token log), read while it runs (WAL). */
function gatewayTokenLog(sessionId: string): Array<{ w: number; advertised_from: number }> {
  const db = new SqliteDatabase(gw.dbPath, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT w, advertised_from FROM advertised_windows WHERE session_id = ? ORDER BY advertised_from').all(sessionId) as Array<{ w: number; advertised_from: number }>;
  } finally {
    db.close();
  }
}

function gatewayOutboxDepth(): number {
  const db = new SqliteDatabase(gw.dbPath, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('broker outage mid-session', () => {
  it('keeps the class going and delivers every queued event exactly once after the broker returns', async () => {
    const [dennis, margaret] = c.students as [Person, Person, Person];
    const start = await w.api.call<{ session_id: string; gateway: { state: string } }>('POST', '/api/v1/teacher/session/start', { token: c.teacher.token, body: { course_id: c.courseId, room_id: c.roomId, period_s: PERIOD_S } });
    expect(start.body.gateway.state).toBe('confirmed');
    const sessionId = start.body.session_id;
    const isOurs = (f: { roomCode: number; w: number; token: string }) => f.roomCode === c.roomCode && f.token === expectedToken(gw.roomSecret, sessionId, f.w);
    // Dennis's and Margaret's phones submit every new frame they hear, for the whole class.
    const answers: string[] = [];
    const submitBoth = (f: { frame: string }) => {
      for (const s of [dennis, margaret]) void submit(w, s.token, f.frame).then((r) => answers.push(r.body.status ?? r.body.error?.code ?? String(r.status)));
    };
    const stopSubmitting = w.phones.onFrame((f) => isOurs(f) && submitBoth(f));
    w.phones.all().filter(isOurs).forEach(submitBoth); // heard before the start request returned
    const first = await w.phones.waitFor(isOurs, 5000, 'the session on air');

    // The broker goes away (and with it everything it held in memory).
    await stopBroker();
    await waitGateway(w, gw.gatewayId, () => true, 1000, 'the API'); // HTTP is unaffected

    // The gateway rotates on its own and students keep submitting over HTTP.
    const offlineWindow = await w.phones.waitFor((f) => isOurs(f) && f.w === first.w + 1, (PERIOD_S + 3) * 1000, 'a window advertised while offline');
    await new Promise((r) => setTimeout(r, 300));
    expect(answers.filter((a) => a === 'accepted').length).toBeGreaterThanOrEqual(4); // both windows, both students
    await new Promise((r) => setTimeout(r, 1500)); // a heartbeat or two more in the outbox
    const queued = gatewayOutboxDepth();
    expect(queued).toBeGreaterThan(0);

    // The broker returns on the same port.
    await startBroker();
    const applied = new Map<string, number>();
    w.cloud.bridge!.onIngested((o) => {
      if (o.result === 'applied') applied.set(o.id, (applied.get(o.id) ?? 0) + 1);
    });

    await eventually(() => gatewayOutboxDepth() === 0, 40_000, "the gateway's outbox to drain", 200);
    const onGateway = gatewayTokenLog(sessionId);
    expect(onGateway.map((r) => r.w)).toEqual(expect.arrayContaining([first.w, offlineWindow.w]));
    // Every rotation the gateway put on air, also those while offline, reached the cloud once (the envelope's `at` is when it went on air).
    const inCloud = await w.cloud.store.db.selectFrom('ingested_events').select('at').where('gateway_id', '=', gw.gatewayId).where('type', '=', 'token.rotated')
      .where('at', '>=', onGateway[0]!.advertised_from).orderBy('at').execute();
    expect(inCloud.map((r) => r.at)).toEqual(onGateway.map((r) => r.advertised_from));
    expect([...applied.values()].every((n) => n === 1)).toBe(true);
    expect(applied.size).toBeGreaterThan(0);
    const ids = await w.cloud.store.db.selectFrom('ingested_events').select('id').where('gateway_id', '=', gw.gatewayId).execute();
    expect(new Set(ids.map((r) => r.id)).size).toBe(ids.length);

    const online = await waitGateway(w, gw.gatewayId, (g) => g.state === 'online', 10_000, 'online again');
    expect(online.pending_commands).toBe(0);

    // End well inside a window the phones have already heard and submitted.
    const msToBoundary = PERIOD_S * 1000 - (Date.now() % (PERIOD_S * 1000));
    if (msToBoundary < 2500) await new Promise((r) => setTimeout(r, msToBoundary + 1500));
    const end = await w.api.call<{ gateway: { state: string } }>('POST', `/api/v1/teacher/session/${sessionId}/end`, { token: c.teacher.token });
    stopSubmitting();
    expect(end.body.gateway.state).toBe('confirmed');
    expect(answers).not.toContain('token_invalid');
    const list = await w.api.must<{ items: Array<{ full_name: string; status: string; windows_seen: number; windows_total: number }> }>(200, 'GET', `/api/v1/teacher/session/${sessionId}/attendance`, { token: c.teacher.token });
    const byName = Object.fromEntries(list.items.map((i) => [i.full_name, i]));
    expect(byName['Dennis Ritchie']!.windows_total).toBeGreaterThanOrEqual(2);
    expect(byName['Dennis Ritchie']).toMatchObject({ status: 'present', windows_seen: byName['Dennis Ritchie']!.windows_total });
    expect(byName['Margaret Hamilton']).toMatchObject({ status: 'present', windows_seen: byName['Dennis Ritchie']!.windows_total });
    expect(byName['Linus Torvalds']).toMatchObject({ status: 'absent', windows_seen: 0 });
  }, 120_000);

  it("a timetable slot starts on the gateway while it is offline, and the cloud accepts the gateway's session when it returns", async () => {
    const pad = (n: number) => String(n).padStart(2, '0');
    const hhmm = (m: number) => `${pad(Math.floor(m / 60) % 24)}:${pad(m % 60)}`;
    // The next minute, unless it is too close to push the timetable and pull the plug first.
    const now = new Date();
    const msLeft = 60_000 - (now.getUTCSeconds() * 1000 + now.getUTCMilliseconds());
    const startMin = now.getUTCHours() * 60 + now.getUTCMinutes() + (msLeft < 8000 ? 2 : 1);
    if (startMin + 2 >= 24 * 60) throw new Error('run this test again after midnight UTC'); // the slot must not wrap
    const weekday = new Date(Date.now() + (startMin - now.getUTCHours() * 60 - now.getUTCMinutes()) * 60_000).getUTCDay();
    const slot = await w.api.call<{ sent: Array<{ command_id: string | null }> }>('POST', `/api/v1/admin/courses/${c.courseId}/timetable`, {
      token: w.adminToken, body: { weekday, start: hhmm(startMin), end: hhmm(startMin + 2), room_id: c.roomId, period_s: PERIOD_S },
    });
    expect(slot.status).toBe(201);
    await waitGateway(w, gw.gatewayId, (g) => g.pending_commands === 0, 10_000, 'the timetable to be confirmed');

    await stopBroker();
    const before = new Set(w.phones.all().map((f) => f.frame));
    const heard = await w.phones.waitFor((f) => f.roomCode === c.roomCode && !before.has(f.frame), 75_000, "the timetable session's first frame");
    const [dennis] = c.students as [Person];
    // The cloud cannot know the session yet: the room is offline. (Within the grace period of the
    // room's previous session the refusal names that session's window instead.)
    expect(['no_active_session', 'window_outside_session', 'token_invalid']).toContain((await submit(w, dennis.token, heard.frame)).body.error?.code);

    await startBroker();
    // After a minute offline the gateway's reconnect backoff is at its cap (30 s, +25 % jitter).
    const session = await eventually(async () => {
      const list = await w.api.must<{ items: Array<{ session_id: string; source: string; state: string }> }>(200, 'GET', `/api/v1/teacher/sessions?course_id=${c.courseId}`, { token: c.teacher.token });
      return list.items.find((s) => s.source === 'timetable' && s.state === 'live') ?? false;
    }, 50_000, 'the gateway session in the cloud', 200);
    expect(heard.token).toBe(expectedToken(gw.roomSecret, session.session_id, heard.w));
    const current = w.phones.latest(c.roomCode)!;
    expect(['accepted', 'duplicate']).toContain((await submit(w, dennis.token, current.frame)).body.status);
    const end = await w.api.call<{ gateway: { state: string } }>('POST', `/api/v1/teacher/session/${session.session_id}/end`, { token: c.teacher.token });
    expect(end.status).toBe(200);
    expect(end.body.gateway.state).toBe('confirmed');
  }, 180_000);
});
