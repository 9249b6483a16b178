/**
 * PUBACK means committed: the cloud runs as a real process (`attendance-cloud` through tsx) on its
 * embedded broker and its database; gateways in another process publish a burst of events from
 * their outboxes, dropping each one on its PUBACK. The cloud is SIGKILLed mid-burst, right after it
 * acknowledged a gateway's `session.ended`, and started again on the same ports and database.
 * Afterwards every acknowledged event must be in the database, and every acknowledged end in effect.
 */
import { spawn, fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../cloud/store/db.js';
import { uuidv7 } from '../../shared/ids.js';
import { CloudApi, createClassroom } from '../../scripts/classroom/api.js';
import { eventually } from '../helpers/eventually.js';
import { testDatabase } from '../helpers/cloud.js';
import type { OutboxGateway } from './outbox-publisher.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const GATEWAYS = 4;
const EVENTS_PER_GATEWAY = 500;
const KILLS = 3;
const admin = { email: 'crash-admin@uni.example', password: 'crash-admin-password' };

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** `attendance-cloud` as systemd would run it; `ready` resolves when it listens. */
class CloudProcess {
  readonly output: string[] = [];
  readonly exited: Promise<void>;
  private readonly proc: ChildProcess;

  constructor(env: Record<string, string>) {
    this.proc = spawn(process.execPath, ['--import', 'tsx', 'cloud/cli.ts'], { cwd: REPO, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const collect = (chunk: Buffer) => this.output.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    this.proc.stdout!.on('data', collect);
    this.proc.stderr!.on('data', collect);
    this.exited = new Promise((resolve) => this.proc.once('exit', () => resolve()));
  }

  ready(): Promise<unknown> {
    return eventually(() => {
      if (this.proc.exitCode !== null) throw new Error(`the cloud exited (${this.proc.exitCode}):\n${this.output.join('\n')}`);
      return this.output.some((l) => l.includes('"attendance cloud listening"'));
    }, 30_000, 'the cloud to listen');
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal);
    await this.exited;
  }
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'att-crash-'));
let database: Awaited<ReturnType<typeof testDatabase>>;
let cloud: CloudProcess | null = null;
let env: Record<string, string>;

beforeAll(async () => {
  database = await testDatabase(dir);
  const [port, mqttPort] = [await freePort(), await freePort()];
  env = {
    PORT: String(port), HOST: '127.0.0.1', MQTT_PORT: String(mqttPort), MQTT_HOST: '127.0.0.1',
    ATTENDANCE_DATA_DIR: dir, DATABASE_URL: database.url, ATTENDANCE_ADMIN_EMAIL: admin.email, ATTENDANCE_ADMIN_PASSWORD: admin.password,
    MQTT_ACK_TIMEOUT_MS: '0', LOG_LEVEL: 'info',
  };
});
afterAll(async () => {
  await cloud?.kill('SIGKILL');
  await database.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function startCloud(): Promise<CloudProcess> {
  cloud = new CloudProcess(env);
  await cloud.ready();
  return cloud;
}

/** Rooms with a provisioned gateway and a live session each, set up over the HTTP API. */
async function classrooms(api: CloudApi): Promise<Array<{ id: string; password: string; sessionId: string }>> {
  const adminToken = await api.login(admin.email, admin.password);
  const c = await createClassroom(api, adminToken, { courseCode: 'CRASH', courseName: 'Crash', roomName: 'Crash room 0', teacherName: 'Crash Teacher', studentNames: [] });
  const rooms = [c.roomId];
  for (let i = 1; i < GATEWAYS; i++) rooms.push((await api.must<{ id: string }>(201, 'POST', '/api/v1/admin/rooms', { token: adminToken, body: { name: `Crash room ${i}` } })).id);
  const out = [];
  for (const roomId of rooms) {
    const p = await api.must<{ credentials: { config: { gateway_id: string; mqtt_password: string } } }>(201, 'POST', `/api/v1/admin/rooms/${roomId}/gateways`, { token: adminToken, body: { mode: 'credentials' } });
    const s = await api.must<{ session_id: string }>(201, 'POST', '/api/v1/teacher/session/start', { token: c.teacher.token, body: { course_id: c.courseId, room_id: roomId, period_s: 60 } });
    out.push({ id: p.credentials.config.gateway_id, password: p.credentials.config.mqtt_password, sessionId: s.session_id });
  }
  return out;
}

/** Token rotations of the room's session, its end at a point that differs per gateway, then more rotations. */
function outboxOf(g: { id: string; password: string; sessionId: string }, index: number): OutboxGateway {
  const endAt = Math.floor((EVENTS_PER_GATEWAY * (index + 1)) / (GATEWAYS + 1));
  const w0 = Math.floor(Date.now() / 60_000);
  const events = Array.from({ length: EVENTS_PER_GATEWAY }, (_, i) => {
    const id = uuidv7();
    const at = new Date().toISOString();
    const event = i === endAt
      ? { id, type: 'session.ended', at, data: { session_id: g.sessionId, ended_at: at, reason: 'operator' } }
      : { id, type: 'token.rotated', at, data: { session_id: g.sessionId, w: w0 + i, advertised_at: at } };
    return { id, payload: JSON.stringify(event) };
  });
  return { id: g.id, password: g.password, events };
}

describe('PUBACK means committed', () => {
  it('acknowledged gateway events are not lost when the cloud is killed', async () => {
    await startCloud();
    const gateways = await classrooms(new CloudApi(`http://127.0.0.1:${env.PORT}`));
    const outboxes = gateways.map(outboxOf);
    const ends = new Map(outboxes.flatMap((o, i) => o.events.filter((e) => e.payload.includes('"session.ended"')).map((e) => [e.id, gateways[i]!.sessionId] as const)));

    const acked = new Set<string>();
    const endedAcked: string[] = [];
    let kills = 0;
    let restarting: Promise<unknown> | null = null;
    const publisher = fork(fileURLToPath(new URL('./outbox-publisher.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const done = new Promise<void>((resolve) => {
      publisher.on('message', (m: { type: string; id?: string }) => {
        if (m.type === 'done') resolve();
        if (m.type !== 'acked') return;
        acked.add(m.id!);
        const session = ends.get(m.id!);
        if (!session) return;
        endedAcked.push(session);
        // Kill at once: the moment right after a PUBACK is when an uncommitted event would be lost.
        if (kills < KILLS && !restarting) {
          kills++;
          restarting = cloud!.kill('SIGKILL').then(startCloud).finally(() => (restarting = null));
        }
      });
    });
    publisher.send({ type: 'go', brokerUrl: `mqtt://127.0.0.1:${env.MQTT_PORT}`, gateways: outboxes });
    await done;
    await eventually(() => !restarting, 30_000, 'the last restart');
    await cloud!.kill('SIGKILL'); // and once more, right after the last PUBACK
    publisher.disconnect();

    expect(kills).toBe(KILLS);
    expect(acked.size).toBe(GATEWAYS * EVENTS_PER_GATEWAY);
    const store = openStore(database.url);
    try {
      const missing: string[] = [];
      for (const id of acked) if (!(await store.gateways.isIngested(id))) missing.push(id);
      expect(missing, `${missing.length} acknowledged events are not in the database`).toEqual([]);
      for (const sessionId of endedAcked) expect((await store.sessions.get(sessionId))?.state, `session ${sessionId}`).toBe('ended');
    } finally {
      await store.close();
    }
  }, 60_000);
});
