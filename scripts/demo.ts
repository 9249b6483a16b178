/**
 * `npm run demo` — the whole system on one machine, on embedded defaults (docs/operations.md):
 *
 *  1. the cloud (SQLite under ./data/demo, embedded MQTT broker on a free port), an admin account;
 *  2. a course with a teacher and students, a room, and its gateway provisioned with a one-time
 *     code (`attendance-gateway provision`) and started on the virtual radio (`run --radio virtual`);
 *  3. each student's phone enrols a passkey with a check-in key; a remote session start; in
 *     every window the phones in the room (the real noble on the virtual air) check in at the
 *     gateway over GATT and submit what they heard over HTTP — most on time, two late, one with
 *     no internet (GATT only), one never comes; Mallory stays at home and submits every frame a
 *     friend forwards her, which the course's default require_proximity does not count;
 *  4. the session ends, the attendance table is printed, and the API and dashboard stay up.
 *
 * Environment: PORT (8000, or a free port if taken), DEMO_SESSION_S (95), DEMO_PERIOD_S (10).
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { AirHub } from '../gateway/ble/virtual/air-hub.js';
import { startCloud, type RunningCloud } from '../cloud/main.js';
import { CloudApi, createClassroom, type Person } from './classroom/api.js';
import { localCloudConfig } from './classroom/cloud.js';
import { GatewayProcess, provisionGateway } from './classroom/gateway-process.js';
import { GattPhone, enrolCheckinKey, type CheckinKey } from './classroom/checkin-phone.js';
import { PhoneListener, type HeardFrame } from './classroom/phones.js';
import { printAttendance, say } from './demo-output.js';

const DATA_DIR = path.resolve('data/demo');
const SESSION_S = Number(process.env.DEMO_SESSION_S ?? 95);
const PERIOD_S = Number(process.env.DEMO_PERIOD_S ?? 10);
const LATE_AFTER_S = 60;

async function startCloudOnPreferredPort(admin: { email: string; password: string }): Promise<RunningCloud> {
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn' });
  const base = { dataDir: path.join(DATA_DIR, 'cloud'), admin, host: '0.0.0.0', logger, logLevel: process.env.LOG_LEVEL ?? 'warn' };
  const preferred = Number(process.env.PORT ?? 8000);
  try {
    return await startCloud(localCloudConfig({ ...base, port: preferred }), { logger });
  } catch (err) {
    if ((err as { code?: string }).code !== 'EADDRINUSE') throw err;
    say(`port ${preferred} is taken; using a free one`);
    // The first attempt may have started the broker before the HTTP port failed: a fresh start.
    return startCloud(localCloudConfig({ ...base, port: 0 }), { logger });
  }
}

async function main(): Promise<void> {
  fs.rmSync(DATA_DIR, { recursive: true, force: true });
  fs.mkdirSync(DATA_DIR, { recursive: true });
  const admin = { email: 'admin@demo.local', password: `demo-${randomBytes(6).toString('hex')}` };

  say('starting the virtual air, the cloud and its embedded MQTT broker');
  const hub = new AirHub(`unix:${path.join(DATA_DIR, 'air.sock')}`);
  const airAddress = await hub.start();
  const cloud = await startCloudOnPreferredPort(admin);
  const api = new CloudApi(cloud.url.replace('localhost', '127.0.0.1'));
  say(`cloud at ${cloud.url}, embedded broker at ${cloud.bridge?.brokerUrl}`);

  const adminToken = await api.login(admin.email, admin.password);
  const c = await createClassroom(api, adminToken, {
    courseCode: 'CS101', courseName: 'Algorithms and Data Structures', roomName: 'Room 1.17', teacherName: 'Grace Hopper',
    studentNames: ['Ada Lovelace', 'Alan Turing', 'Katherine Johnson', 'Donald Knuth', 'Frances Allen', 'Edsger Dijkstra', 'Tony Hoare', 'Mallory Mallet'],
    // require_proximity keeps its default: on, since the room's gateway serves the GATT check-in.
    policy: { require_biometric: false, late_after_min: LATE_AFTER_S / 60, min_presence: 0.3, grace_s: 5 },
  });
  // Tony Hoare (the seventh) never comes.
  const [ada, alan, katherine, donald, frances, edsger, , mallory] = c.students as [Person, Person, Person, Person, Person, Person, Person, Person];
  say(`course CS101 with ${c.students.length} students, room 1.17 (room code ${c.roomCode})`);

  const issued = await api.must<{ gateway_id: string; provisioning_code: string; expires_at: string }>(201, 'POST', `/api/v1/admin/rooms/${c.roomId}/gateways`, { token: adminToken, body: {} });
  say(`provisioning code for the room's gateway: ${issued.provisioning_code} (valid until ${issued.expires_at})`);
  const configPath = await provisionGateway(api.baseUrl, issued.provisioning_code, { dir: path.join(DATA_DIR, 'gateway'), config: { heartbeat_s: 10, local_name: 'R1.17' } });
  const quiet = pino({ level: 'warn' });
  const phones = await PhoneListener.start(hub, quiet);
  const gateway = GatewayProcess.start(configPath, airAddress);
  // Ctrl-C at any point from here stops the gateway process too.
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    say('stopping');
    await gateway.stop();
    await phones.stop();
    await cloud.stop();
    await hub.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());
  say(`gateway ${issued.gateway_id} running on the virtual radio (pid ${gateway.pid}, log ${path.relative(process.cwd(), gateway.logFile)})`);
  for (let i = 0; ; i++) {
    const list = await api.must<{ items: Array<{ gateway_id: string; state: string }> }>(200, 'GET', '/api/v1/admin/gateways', { token: adminToken });
    if (list.items.some((g) => g.gateway_id === issued.gateway_id && g.state === 'online')) break;
    if (i > 300) throw new Error(`the gateway did not come online; see ${gateway.logFile}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  say('gateway online');

  const onTime = [ada, alan, katherine, donald];
  const late = [frances, edsger];
  // Donald's phone has no internet in the room: it only checks in over GATT, the gateway forwards it.
  const offline = donald;
  say('each student enrols a passkey on their phone, with the check-in key the gateway will witness');
  const origin = cloud.config.webauthn.origins[0]!;
  const keys = new Map<string, CheckinKey>();
  for (const s of c.students) keys.set(s.id, await enrolCheckinKey(api, s, origin));
  const gattPhones = new Map<string, GattPhone>();
  for (const [i, s] of [...onTime, ...late].entries()) gattPhones.set(s.id, await GattPhone.start(10 + i, hub, quiet));

  const submit = async (who: Person, f: HeardFrame, note = '') => {
    const r = await api.call<{ status?: string; witnessed?: boolean; error?: { code: string } }>('POST', '/api/v1/student/token/submit', { token: who.token, body: { frame: f.frame, rssi: f.rssi } });
    const outcome = r.body.status ? `${r.body.status}${r.body.witnessed ? ', witnessed' : ', not witnessed'}` : (r.body.error?.code ?? String(r.status));
    say(`  ${who.fullName.padEnd(18)} window ${f.w}: submitted over HTTP, ${outcome}${note}`);
  };
  // The windows each student's phone was witnessed in (queued or duplicate receipts), to wait for at the cloud.
  const witnessed = new Map<string, Set<number>>();
  const checkIn = async (who: Person, f: HeardFrame, note: string) => {
    try {
      const { receipt, attempts } = await gattPhones.get(who.id)!.checkIn(c.roomCode, keys.get(who.id)!, { timeoutMs: (PERIOD_S - 1) * 1000 });
      if (receipt.status === 'queued' || receipt.status === 'duplicate') witnessed.set(who.id, (witnessed.get(who.id) ?? new Set()).add(receipt.w));
      say(`  ${who.fullName.padEnd(18)} window ${receipt.w}: checked in over GATT, ${receipt.status}${attempts > 1 ? ` (${attempts} tries: the gateway serves one phone at a time)` : ''}${note}`);
    } catch (err) {
      say(`  ${who.fullName.padEnd(18)} window ${f.w}: no check-in (${(err as Error).message})`);
    }
    if (who !== offline) await submit(who, f, note);
  };
  // One visit at a time per phone: a phone still busy with the last window goes on to this one after.
  const visits = new Map<string, Promise<void>>();
  const attend = (who: Person, f: HeardFrame, note = '') => visits.set(who.id, (visits.get(who.id) ?? Promise.resolve()).then(() => checkIn(who, f, note)));

  let firstFrame: HeardFrame | null = null;
  let sessionStartedAt: number | null = null;
  let tapped = 0; // the phones listen before the teacher taps: the gateway is on air before her answer arrives
  const stopListening = phones.onFrame((f) => {
    if (f.roomCode !== c.roomCode) return;
    if (!firstFrame) {
      firstFrame = f;
      say(`phones hear room ${f.roomCode} window ${f.w} ${Date.now() - tapped} ms after the tap`);
    }
    for (const s of onTime) attend(s, f, s === offline ? ' (no internet)' : '');
    // Frances and Edsger walk in after the late threshold: they hear only windows starting later.
    const windowStartedAfter = f.w * PERIOD_S * 1000 - (sessionStartedAt ?? Date.now());
    if (windowStartedAfter >= LATE_AFTER_S * 1000) for (const s of late) attend(s, f, ' (arrived late)');
    // Mallory stays at home: a friend in the room forwards her every frame and she submits it in time.
    void submit(mallory, f, ' (forwarded by a friend; she is at home)');
  });
  tapped = Date.now();
  const start = await api.must<{ session_id: string; started_at: string; gateway: { state: string } }>(201, 'POST', '/api/v1/teacher/session/start', { token: c.teacher.token, body: { course_id: c.courseId, room_id: c.roomId, period_s: PERIOD_S } });
  sessionStartedAt = Date.parse(start.started_at);
  say(`Grace Hopper starts the session from her phone: session ${start.session_id}, gateway ${start.gateway.state}`);

  say(`the class runs for ${SESSION_S} s with a token period of ${PERIOD_S} s`);
  await new Promise((r) => setTimeout(r, SESSION_S * 1000));
  // Not right after a rotation: the phones get a moment to hear and check in in the new window.
  const intoWindow = Date.now() % (PERIOD_S * 1000);
  if (intoWindow < 1500) await new Promise((r) => setTimeout(r, 1500 - intoWindow));
  stopListening();
  await Promise.all(visits.values());
  const ended = await api.must<{ gateway: { state: string }; counts: Record<string, number> }>(200, 'POST', `/api/v1/teacher/session/${start.session_id}/end`, { token: c.teacher.token });
  say(`session ended (gateway ${ended.gateway.state}); ${JSON.stringify(ended.counts)}`);

  // The last check-ins may still be on their way through the gateway's outbox; a late one re-decides its record.
  type Row = Parameters<typeof printAttendance>[0][number] & { student_id: string; witnessed_windows: number };
  const attendance = () => api.must<{ items: Row[] }>(200, 'GET', `/api/v1/teacher/session/${start.session_id}/attendance`, { token: c.teacher.token });
  for (let i = 0; ; i++) {
    const rows = (await attendance()).items;
    if (rows.every((r) => r.witnessed_windows >= (witnessed.get(r.student_id)?.size ?? 0))) break;
    if (i > 100) throw new Error(`the cloud did not receive every check-in; see ${gateway.logFile}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  printAttendance((await attendance()).items);
  const gw = await api.must<{ items: unknown[] }>(200, 'GET', '/api/v1/admin/gateways', { token: adminToken });
  say(`gateway status: ${JSON.stringify(gw.items[0])}`);

  console.log(`
The API and the dashboard keep running (Ctrl-C to stop):
  API docs   ${cloud.url}/api/v1/docs
  dashboard  ${cloud.url}/dashboard
  admin      ${admin.email} / ${admin.password}
  teacher    ${c.teacher.email} / ${c.teacher.password}
  data       ${path.relative(process.cwd(), DATA_DIR)}  (wiped at the next \`npm run demo\`)`);

}

main().catch((err: unknown) => {
  console.error('demo failed:', err instanceof Error ? err.stack : err);
  process.exit(1);
});
