/**
 * Server half of bench/submit.ts, run as a child process so the load generator does not share
 * its event loop. Mode `bare`: a Koa app with one JSON handler (the baseline). Mode `full`: the
 * cloud as `cloud/main.ts` composes it (MQTT off) on a fresh SQLite file, or a fresh schema of the
 * PostgreSQL database named by the fifth argument (dropped again on SIGINT), with courses,
 * students and live sessions.
 * Prints one JSON line with the port (and, for `full`, what the load generator needs).
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import Koa from 'koa';
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import pino from 'pino';
import type { AddressInfo } from 'node:net';
import { loadCloudConfig } from '../cloud/config.js';
import { composeCloud } from '../cloud/main.js';
import { uuidv7 } from '../shared/ids.js';
import { testDatabase } from '../test/helpers/cloud.js';

const mode = process.argv[2];
const students = Number(process.argv[3] ?? 2000);
const rooms = Number(process.argv[4] ?? 100);
const postgresUrl = process.argv[5] || undefined;
const PERIOD_S = 10;

/** `GET /__cpu` answers this process's CPU time, so the load generator can measure CPU per request. */
async function listen(handler: http.RequestListener): Promise<number> {
  const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    if (req.url === '/__cpu') {
      const { user, system } = process.cpuUsage();
      res.end(JSON.stringify({ cpu_us: user + system }));
      return;
    }
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

async function bare(): Promise<void> {
  const app = new Koa();
  const router = new Router();
  app.use(bodyParser());
  router.post('/api/v1/student/token/submit', (ctx) => {
    ctx.body = { status: 'accepted', echo: (ctx.request as unknown as { body: unknown }).body };
  });
  app.use(router.routes());
  console.log(JSON.stringify({ port: await listen(app.callback()) }));
}

async function full(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'att-bench-'));
  const database = await testDatabase(dir, postgresUrl);
  const config = loadCloudConfig({ ATTENDANCE_DATA_DIR: dir, MQTT_DISABLED: 'true', DATABASE_URL: database.url });
  const cloud = await composeCloud(config, { logger: pino({ level: 'silent' }) });
  process.once('SIGINT', () => void cloud.stop().then(database.drop).finally(() => process.exit(0)));
  const { tokens } = cloud.deps;
  const now = Date.now();
  const db = cloud.store.db;
  const teacherId = uuidv7();
  await db.insertInto('users').values({ id: teacherId, email: 't@bench', full_name: 'T', role: 'teacher', password_hash: 'x', created_at: now }).execute();
  // Several rooms, each with a live session of its own course that every student takes: the load
  // generator spreads requests over (room, student) pairs so that most submissions are new windows,
  // as in a real class (one submission per student per window), not replays.
  const roomList: Array<{ roomCode: number; roomSecret: string; sessionId: string }> = [];
  const studentIds: string[] = [];
  const auth: string[] = [];
  await db.transaction().execute(async (trx) => {
    // Multi-row inserts in chunks: one round trip each on PostgreSQL.
    const chunks = <T>(xs: T[], n = 1000) => Array.from({ length: Math.ceil(xs.length / n) }, (_, k) => xs.slice(k * n, (k + 1) * n));
    for (let i = 0; i < students; i++) studentIds.push(uuidv7());
    for (const chunk of chunks(studentIds.map((id, i) => ({ id, email: `s${i}@bench`, full_name: `S${i}`, role: 'student' as const, password_hash: 'x', created_at: now })))) {
      await trx.insertInto('users').values(chunk).execute();
    }
    for (const id of studentIds) auth.push((await tokens.issue({ id, role: 'student' })).token);
    for (let r = 0; r < rooms; r++) {
      const courseId = uuidv7();
      await trx.insertInto('courses').values({ id: courseId, code: `B${r}`, name: 'Bench', teacher_id: teacherId, term_id: null, min_presence: 0.75, late_after_s: 600, require_biometric: 0, min_attendance_pct: 75, grace_s: 60, created_at: now } as never).execute();
      for (const chunk of chunks(studentIds)) await trx.insertInto('enrollments').values(chunk.map((id) => ({ course_id: courseId, student_id: id, created_at: now }))).execute();
      const roomId = uuidv7();
      const roomSecret = randomBytes(32).toString('hex');
      await trx.insertInto('rooms').values({ id: roomId, name: `R${r}`, room_code: 4242 + r, secret: roomSecret, created_at: now }).execute();
      const sessionId = uuidv7();
      await trx.insertInto('sessions').values({ id: sessionId, course_id: courseId, room_id: roomId, started_at: now - 60_000, ended_at: null, period_s: PERIOD_S, source: 'cloud', state: 'live', started_by: teacherId }).execute();
      roomList.push({ roomCode: 4242 + r, roomSecret, sessionId });
    }
  });
  const port = await listen(cloud.app.koa.callback());
  console.log(JSON.stringify({ port, rooms: roomList, periodS: PERIOD_S, auth }));
}

if (mode === 'bare') {
  process.once('SIGINT', () => process.exit(0));
  await bare();
} else {
  await full();
}
