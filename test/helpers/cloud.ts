/**
 * Test harness for the cloud: a real database (a fresh SQLite file, or PostgreSQL when
 * TEST_DATABASE_URL is set — each harness then gets its own schema), the cloud built by the same
 * composition function as the process (`composeCloud`), real JWTs and a controllable clock.
 * Requests go through supertest against app.callback(), no port.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pino, { type Logger } from 'pino';
import pg from 'pg';
import supertest from 'supertest';
import { loadCloudConfig, type CloudConfig } from '../../cloud/config.js';
import { composeCloud, type ComposedCloud } from '../../cloud/main.js';
import type { Store } from '../../cloud/store/db.js';
import type { App } from '../../cloud/http/app.js';
import type { AppDeps } from '../../cloud/http/deps.js';
import type { WebAuthnSettings } from '../../cloud/webauthn/settings.js';
import type { Role } from '../../cloud/store/schema.js';

export interface TestClock {
  now: number;
  (): number;
  set(ms: number): void;
  advance(ms: number): void;
}

export function testClock(start = Date.UTC(2026, 8, 7, 8, 0, 0)): TestClock {
  const fn = (() => fn.now) as TestClock;
  fn.now = start;
  fn.set = (ms) => {
    fn.now = ms;
  };
  fn.advance = (ms) => {
    fn.now += ms;
  };
  return fn;
}

/** The relying party the tests' software authenticator talks to (set through the environment). */
const TEST_RP_ENV = {
  ATTENDANCE_RP_ID: 'attendance.uni.example',
  ATTENDANCE_RP_NAME: 'Classroom attendance (test)',
  ATTENDANCE_ORIGINS: 'https://attendance.uni.example',
};
export const TEST_WEBAUTHN: WebAuthnSettings = loadCloudConfig(TEST_RP_ENV).webauthn;

export interface HarnessOptions {
  clock?: TestClock;
  /** The cloud's logger (default: silent, or TEST_LOG_LEVEL). */
  logger?: Logger;
  /** Settings on top of the harness's own, as the environment would give them (e.g. ATTENDANCE_TIMEZONE). */
  env?: Record<string, string>;
  /** Adjusts the configuration after it is read (e.g. TLS material held in memory). */
  configure?: (config: CloudConfig) => CloudConfig;
}

export interface CloudHarness {
  /** The cloud as `cloud/main.ts` composes it (no HTTP server: requests go through supertest). */
  cloud: ComposedCloud;
  app: App;
  deps: AppDeps;
  store: Store;
  clock: TestClock;
  http: () => supertest.Agent;
  /** Creates an account directly in the store and returns it with a bearer header for it. */
  user(role: Role, name?: string): Promise<{ id: string; email: string; password: string; auth: { Authorization: string } }>;
  close(): Promise<void>;
}

/** A database of its own for each harness: a fresh SQLite file, or a fresh PostgreSQL schema. */
export async function testDatabase(dir: string, pgUrl = process.env.TEST_DATABASE_URL): Promise<{ url: string; drop: () => Promise<void> }> {
  if (!pgUrl) return { url: `sqlite:${path.join(dir, 'attendance.db')}`, drop: async () => {} };
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: pgUrl });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const url = new URL(pgUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: pgUrl });
      await c.connect();
      await c.query(`drop schema ${schema} cascade`);
      await c.end();
    },
  };
}

export async function createCloudHarness(opts: HarnessOptions = {}): Promise<CloudHarness> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'att-cloud-'));
  const database = await testDatabase(dir);
  const clock = opts.clock ?? testClock();
  const env = {
    ATTENDANCE_DATA_DIR: dir,
    DATABASE_URL: database.url,
    MQTT_DISABLED: 'true',
    ATTENDANCE_TOKEN_TTL_S: '86400',
    ATTENDANCE_LOGIN_MAX_ATTEMPTS: '5',
    ATTENDANCE_LOGIN_WINDOW_S: '900',
    ...TEST_RP_ENV,
    ...opts.env,
  };
  const loaded = loadCloudConfig(env);
  const config = opts.configure ? opts.configure(loaded) : loaded;
  const cloud = await composeCloud(config, { logger: opts.logger ?? pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }), clock });
  const { app, deps, store } = cloud;
  const callback = app.koa.callback();
  let n = 0;
  return {
    cloud,
    app,
    deps,
    store,
    clock,
    http: () => supertest.agent(callback),
    async user(role, name) {
      n++;
      const email = `${name ?? role}${n}@uni.example`.toLowerCase();
      const password = `pw-${randomBytes(6).toString('hex')}`;
      const u = await store.accounts.create({ email, full_name: name ?? `${role} ${n}`, password, role }, clock());
      const { token } = await deps.tokens.issue({ id: u.id, role });
      return { id: u.id, email, password, auth: { Authorization: `Bearer ${token}` } };
    },
    async close() {
      await cloud.stop();
      await database.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
