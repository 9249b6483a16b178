/**
 * One campus run (bench/campus.ts, test/cloud/campus-scale.test.ts): seed, start the instances,
 * connect the gateways, start the hour's sessions through the teachers' API, let the students check
 * in (optionally killing one instance with SIGKILL halfway and starting it again), end the
 * sessions, then compare what was acknowledged with what the database holds.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { encodeFrame } from '../../shared/frame.js';
import { deriveSessionKey, tokenForWindow, windowIndex } from '../../shared/token.js';
import { testDatabase } from '../../test/helpers/cloud.js';
import { GatewayFleet } from './gateways.js';
import { Balancer } from './http.js';
import { PrivateMosquitto } from './mosquitto.js';
import { CloudInstance } from './instances.js';
import { campusPlan, checkinPairs, type CampusPlan } from './plan.js';
import { seedCampus } from './seed.js';
import { Stats } from './stats.js';

export interface CampusOptions {
  scale: number;
  postgresUrl: string;
  /** An external broker; without it the run starts its own Mosquitto (bench/campus/mosquitto.ts). */
  mqttUrl?: string;
  /** How long the check-ins take (six minutes at every scale unless told). */
  checkinSeconds: number;
  /** SIGKILL one instance halfway through the check-ins, and start it again this many seconds later. */
  kill?: { restartAfterS: number };
  heartbeatS?: number;
  /** Cloud instances behind the balancer (default 2; the kill needs two). */
  instances?: number;
  periodS?: number;
  log?: (line: string) => void;
}

export interface CampusReport {
  plan: CampusPlan;
  requests: ReturnType<Stats['summary']>;
  phases: Array<{ phase: string; seconds: number; requests: number; cpuMsPerRequest: number; throughput: number }>;
  retried: number;
  events: { acked: number; ingested: number; lost: number; lostTypes: Record<string, number> };
  /** Times the run's own Mosquitto logged dropping messages (null on an external broker). */
  brokerDrops: number | null;
  submissions: { accepted: number; stored: number; lost: number; rowsBeyondAccepted: number };
  instances: number;
  killed: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runCampus(o: CampusOptions): Promise<CampusReport> {
  const log = o.log ?? (() => undefined);
  const plan = campusPlan(o.scale);
  const periodS = o.periodS ?? 60;
  const tag = randomBytes(4).toString('hex');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'att-campus-'));
  const database = await testDatabase(dir, o.postgresUrl);
  const stats = new Stats();
  const instances: CloudInstance[] = [];
  let fleet: GatewayFleet | null = null;
  let balancer: Balancer | null = null;
  let broker: PrivateMosquitto | null = null;
  const db = new pg.Client({ connectionString: database.url });
  try {
    const pairs = checkinPairs(plan);
    let t = performance.now();
    const jwtSecretFile = path.join(dir, 'jwt-secret');
    const campus = await seedCampus({ plan, databaseUrl: database.url, dataDir: path.join(dir, 'seed'), jwtSecretFile, checkingIn: new Set(pairs.map((p) => p.student)), tag });
    log(`seeded ${plan.rooms} rooms, ${plan.courses} courses, ${plan.students} students in ${((performance.now() - t) / 1000).toFixed(1)} s`);

    if (!o.mqttUrl) broker = await PrivateMosquitto.start(dir);
    const mqttUrl = o.mqttUrl ?? broker!.url;
    log(`broker ${o.mqttUrl ? mqttUrl : `${mqttUrl} (its own Mosquitto)`}`);
    const env = { databaseUrl: database.url, mqttUrl, topicPrefix: `campus-${tag}/v1`, jwtSecretFile, dataDir: dir };
    for (const name of ['a', 'b', 'c', 'd'].slice(0, o.instances ?? 2)) instances.push(await CloudInstance.create(name, env));
    await Promise.all(instances.map((i) => i.start()));
    log(`instances ${instances.map((i) => i.name).join(', ')} ready`);
    balancer = new Balancer(instances, stats);
    fleet = new GatewayFleet(stats, campus.rooms, mqttUrl, env.topicPrefix);
    t = performance.now();
    await fleet.connect(o.heartbeatS ?? 30);
    log(`${instances.length} instances up; ${plan.rooms} gateways connected in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    await sleep(1000); // the instances see the retained `online` statuses

    const phases: CampusReport['phases'] = [];
    const phase = async (name: string, types: string[], body: () => Promise<void>) => {
      const cpu0 = instances.reduce((s, i) => s + i.cpu(), 0);
      const n0 = types.reduce((s, ty) => s + stats.count(ty), 0);
      const t0 = performance.now();
      await body();
      const seconds = (performance.now() - t0) / 1000;
      const requests = types.reduce((s, ty) => s + stats.count(ty), 0) - n0;
      const cpuMs = (instances.reduce((s, i) => s + i.cpu(), 0) - cpu0) / 1000;
      phases.push({ phase: name, seconds, requests, cpuMsPerRequest: cpuMs / Math.max(1, requests), throughput: requests / seconds });
      log(`${name}: ${requests} requests in ${seconds.toFixed(1)} s`);
    };

    // The hour starts: every teacher starts their session at once.
    const sessions: Array<{ id: string; room: (typeof campus.rooms)[number]; key: Buffer; course: number }> = [];
    await phase('sessions start', ['session start'], async () => {
      await Promise.all(Array.from({ length: plan.sessions }, async (_, s) => {
        const room = campus.rooms[s]!;
        const res = await balancer!.request('session start', 'POST', '/api/v1/teacher/session/start', campus.teacherAuth(s), { course_id: campus.courseIds[s], room_id: room.id, period_s: periodS });
        const id = res.body.session_id as string;
        if (res.status === 201) sessions[s] = { id, room, key: deriveSessionKey(Buffer.from(room.secret, 'hex'), id), course: s };
      }));
    });

    // Check-ins, spread evenly over checkinSeconds in a random order (open loop: each at its time).
    const accepted = new Set<string>();
    const order = pairs.map((p) => ({ p, r: Math.random() })).sort((a, b) => a.r - b.r).map((x) => x.p);
    const spacingMs = (o.checkinSeconds * 1000) / Math.max(1, order.length);
    let killed = false;
    await phase('check-ins', ['token submit'], async () => {
      const began = Date.now();
      const killAt = o.kill && instances.length > 1 ? began + (o.checkinSeconds * 1000) / 2 : Infinity;
      const inflight: Array<Promise<void>> = [];
      for (const [k, p] of order.entries()) {
        const due = began + k * spacingMs;
        if (Date.now() < due) await sleep(due - Date.now());
        if (!killed && Date.now() >= killAt) {
          killed = true;
          instances[1]!.kill9();
          log(`instance ${instances[1]!.name} killed (SIGKILL)`);
          void sleep(o.kill!.restartAfterS * 1000).then(() => instances[1]!.start()).then(() => log(`instance ${instances[1]!.name} started again`));
        }
        const session = sessions[p.session];
        if (!session) continue;
        const w = windowIndex(Date.now(), periodS);
        const frame = encodeFrame({ roomCode: session.room.code, w, token: tokenForWindow(session.key, w) }).toString('hex');
        inflight.push(balancer!.request('token submit', 'POST', '/api/v1/student/token/submit', campus.studentAuth.get(p.student)!, { frame, rssi: -60 }).then((res) => {
          if (res.status === 200) accepted.add(`${session.id}/${p.student}/${w}`);
        }, () => undefined));
      }
      await Promise.all(inflight);
    });
    // The restarted instance is back before the end of class, as systemd would have it.
    if (killed) for (let i = 0; !instances[1]!.up && i < 600; i++) await sleep(100);

    await phase('sessions end', ['session end'], async () => {
      await Promise.all(sessions.map((s) => s && balancer!.request('session end', 'POST', `/api/v1/teacher/session/${s.id}/end`, campus.teacherAuth(s.course))));
    });

    // What the broker acknowledged to the gateways must all be ingested, once the queues drain.
    await fleet.quiesce();
    await db.connect();
    const ingestedIds = async () => new Set((await db.query<{ id: string }>('select id from ingested_events')).rows.map((r) => r.id));
    let ingested = await ingestedIds();
    for (let i = 0; i < 100 && [...fleet.acked.keys()].some((id) => !ingested.has(id)); i++) {
      await sleep(200);
      ingested = await ingestedIds();
    }
    const lostTypes: Record<string, number> = {};
    for (const [id, type] of fleet.acked) if (!ingested.has(id)) lostTypes[type] = (lostTypes[type] ?? 0) + 1;
    // Submissions answered 200 (accepted, or duplicate after a retry) are in the table, keyed by (session, student, w).
    const rows = new Set((await db.query<{ k: string }>("select session_id || '/' || student_id || '/' || w as k from submissions")).rows.map((r) => r.k));
    const studentIdOf = new Map<number, string>();
    for (const u of (await db.query<{ id: string; email: string }>("select id, email from users where role = 'student'")).rows) studentIdOf.set(Number(u.email.slice(1, u.email.indexOf('@'))), u.id);
    const acceptedKeys = [...accepted].map((k) => { const [s, i, w] = k.split('/'); return `${s}/${studentIdOf.get(Number(i))}/${w}`; });
    const lostSubmissions = acceptedKeys.filter((k) => !rows.has(k)).length;
    return {
      plan,
      requests: stats.summary(),
      phases,
      retried: balancer.retried,
      events: { acked: fleet.acked.size, ingested: [...fleet.acked.keys()].filter((id) => ingested.has(id)).length, lost: Object.values(lostTypes).reduce((a, b) => a + b, 0), lostTypes },
      brokerDrops: broker ? broker.dropped() : null,
      submissions: { accepted: accepted.size, stored: rows.size, lost: lostSubmissions, rowsBeyondAccepted: rows.size - (acceptedKeys.length - lostSubmissions) },
      instances: instances.length,
      killed,
    };
  } finally {
    log('stopping');
    await db.end().catch(() => undefined);
    balancer?.close();
    await fleet?.close();
    await Promise.all(instances.map((i) => i.stop()));
    await broker?.stop();
    await database.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
