/**
 * Test harness for the cloud: a real database (a fresh SQLite file, or PostgreSQL when
 * TEST_DATABASE_URL is set — each harness then gets its own schema), the real app, real JWTs,
 * and a controllable clock. Requests go through supertest against app.callback(), no port.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import pg from 'pg';
import supertest from 'supertest';
import { openStore, type Store } from '../../cloud/store/db.js';
import { migrateToLatest } from '../../cloud/store/migrate.js';
import { createTokenService } from '../../cloud/auth/jwt.js';
import { createLoginLimiter } from '../../cloud/auth/login-limiter.js';
import { createMetrics } from '../../cloud/metrics.js';
import { CloudEvents } from '../../cloud/events.js';
import { createVerifiedLookup } from '../../cloud/webauthn/verified-lookup.js';
import { DEFAULT_CHALLENGE_TTL_S, DEFAULT_WINDOW, type WebAuthnSettings } from '../../cloud/webauthn/settings.js';
import { createApp, type App, type AppOptions } from '../../cloud/http/app.js';
import type { AppDeps } from '../../cloud/http/deps.js';
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

/** The relying party the tests' software authenticator talks to. */
export const TEST_WEBAUTHN: WebAuthnSettings = {
  rpId: 'attendance.uni.example',
  rpName: 'Classroom attendance (test)',
  origins: ['https://attendance.uni.example'],
  window: DEFAULT_WINDOW,
  challengeTtlS: DEFAULT_CHALLENGE_TTL_S,
};

export interface CloudHarness {
  app: App;
  deps: AppDeps;
  store: Store;
  clock: TestClock;
  http: () => supertest.Agent;
  /** Creates an account directly in the store and returns it with a bearer header for it. */
  user(role: Role, name?: string): Promise<{ id: string; email: string; password: string; auth: { Authorization: string } }>;
  close(): Promise<void>;
}

async function openTestStore(): Promise<{ store: Store; cleanup: () => Promise<void> }> {
  const pgUrl = process.env.TEST_DATABASE_URL;
  if (pgUrl) {
    const schema = `t_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: pgUrl });
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    await admin.end();
    const url = new URL(pgUrl);
    url.searchParams.set('options', `-c search_path=${schema}`);
    const store = openStore(url.toString());
    return {
      store,
      cleanup: async () => {
        await store.close();
        const c = new pg.Client({ connectionString: pgUrl });
        await c.connect();
        await c.query(`drop schema ${schema} cascade`);
        await c.end();
      },
    };
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'att-cloud-'));
  const store = openStore(`sqlite:${path.join(dir, 'attendance.db')}`);
  return {
    store,
    cleanup: async () => {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function createCloudHarness(opts: { appOptions?: AppOptions; deps?: Partial<AppDeps>; clock?: TestClock } = {}): Promise<CloudHarness> {
  const { store, cleanup } = await openTestStore();
  await migrateToLatest(store);
  const clock = opts.clock ?? testClock();
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const deps: AppDeps = {
    store,
    tokens: createTokenService(randomBytes(32), 86_400, clock),
    logger,
    clock,
    loginLimiter: createLoginLimiter(5, 900, clock),
    metrics: createMetrics(),
    events: new CloudEvents(logger),
    verifiedLookup: createVerifiedLookup(opts.deps?.webauthn?.window ?? TEST_WEBAUTHN.window, clock),
    webauthn: TEST_WEBAUTHN,
    settings: { timezone: 'UTC', openRegistration: true, trustProxy: false, tokenTtlS: 3600 },
    ...opts.deps,
  };
  const app = createApp(deps, opts.appOptions);
  const callback = app.koa.callback();
  let n = 0;
  return {
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
    close: cleanup,
  };
}
