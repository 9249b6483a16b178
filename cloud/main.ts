/**
 * Composition root of the cloud process (docs/architecture.md, "Composition"): config → logger
 * → store (migrated, first admin) → events, keys, metrics → MQTT bridge → app. `composeCloud`
 * builds it all without listening; `startCloud` adds the HTTP server and the scheduled jobs.
 * The tests build the cloud through `composeCloud` too, so they run the application users run.
 */
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { CloudConfig } from './config.js';
import { createLogger } from './logger.js';
import { openStore, type Store } from './store/db.js';
import { migrateToLatest } from './store/migrate.js';
import { ensureFirstAdmin } from './services/first-admin.js';
import { loadOrCreateSigningKey } from './auth/keys.js';
import { createTokenService } from './auth/jwt.js';
import { createAccountStandings } from './auth/account-standings.js';
import { createLoginLimiter } from './auth/login-limiter.js';
import { createRegistrationLimiter } from './auth/registration-limiter.js';
import { createMetrics } from './metrics.js';
import { CloudEvents } from './events.js';
import { createVerifiedLookup } from './webauthn/verified-lookup.js';
import { startRetentionJob } from './jobs/retention.js';
import { startAbsenceWarningJob } from './jobs/absence-warnings.js';
import { createApp, type App } from './http/app.js';
import type { AppDeps } from './http/deps.js';
import { MqttBridge } from './bridge/start.js';
import { createSmtpMailer } from './mail/transport.js';
import { createAccountMail } from './mail/account-mail.js';
import { createOidcSignIn } from './auth/oidc.js';
import { createChangeFeed, onChange, type ChangeFeed } from './store/change-feed.js';

export interface CloudOptions {
  logger?: Logger;
  /** Server time in ms (tests pass a controllable one). */
  clock?: () => number;
}

/** The cloud, built and started but for the HTTP server. */
export interface ComposedCloud {
  config: CloudConfig;
  logger: Logger;
  store: Store;
  deps: AppDeps;
  app: App;
  /** The MQTT broker/link/ingest and the gateway hub; null with MQTT_DISABLED. */
  bridge: MqttBridge | null;
  /** Keeps the caches coherent with the other instances (PostgreSQL LISTEN/NOTIFY; nothing on SQLite). */
  changeFeed: ChangeFeed;
  /** Stops the bridge, releases the app's listeners and closes the database. */
  stop(): Promise<void>;
}

export interface RunningCloud extends ComposedCloud {
  url: string;
}

export async function composeCloud(config: CloudConfig, opts: CloudOptions = {}): Promise<ComposedCloud> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  const clock = opts.clock ?? Date.now;
  // Read before the database opens: a bad key file stops the start with nothing to undo.
  const signingKey = loadOrCreateSigningKey(config.jwtSecretFile);
  const store = openStore(config.databaseUrl);
  try {
    const applied = await migrateToLatest(store);
    if (applied.length) logger.info({ migrations: applied }, 'database migrated');
    await ensureFirstAdmin(store.accounts, config.admin, clock(), logger.child({ module: 'accounts' }), path.join(config.dataDir, 'initial-admin.txt'));
  } catch (err) {
    await store.close();
    throw err;
  }

  const events = new CloudEvents(logger);
  const standings = createAccountStandings(store.accounts, events, clock);
  const metrics = createMetrics({ defaultMetrics: true });
  const verifiedLookup = createVerifiedLookup(config.webauthn.window, clock);
  const bridge = config.mqtt.disabled
    ? null
    : new MqttBridge(config.mqtt, { store, events, verifiedLookup, clock, logger, timezone: config.timezone, registry: metrics.registry });
  const changeFeed = createChangeFeed({ databaseUrl: config.databaseUrl, store, events, logger: logger.child({ module: 'change-feed' }) });
  const wiring = {};
  if (bridge) {
    // Whichever instance revoked a gateway, this one forgets its row and drops its connection to
    // the embedded broker; whichever instance heard a gateway settle a command, a session start or
    // end waiting for it here is answered.
    onChange(events, wiring, (change) => {
      bridge.ingest.forget(change);
      if (change.kind === 'gateway') bridge.hub.disconnect(change.id);
      if (change.kind === 'command') bridge.hub.commandSettled(change.id);
    });
  }
  try {
    await bridge?.start();
  } catch (err) {
    events.off(wiring);
    await store.close();
    throw err;
  }
  // Never fails: while it cannot listen it retries with backoff, and the caches' lifetimes hold.
  await changeFeed.start();
  const mailer = config.mail && config.publicUrl ? createAccountMail(createSmtpMailer(config.mail, logger.child({ module: 'mail' })), config.publicUrl, clock) : undefined;
  if (!config.openRegistration) logger.info('self-registration is closed: accounts are made by an admin');
  const deps: AppDeps = {
    store,
    tokens: createTokenService(signingKey, config.tokenTtlS, standings, clock),
    logger: logger.child({ module: 'http' }),
    clock,
    loginLimiter: createLoginLimiter(config.login, clock),
    registrationLimiter: createRegistrationLimiter(config.registerMaxPerHour, clock),
    metrics,
    events,
    verifiedLookup,
    webauthn: config.webauthn,
    ...(bridge ? { gateways: bridge.hub } : {}),
    ...(mailer ? { mailer } : {}),
    ...(config.oidc ? { oidc: createOidcSignIn(config.oidc, { store, events, clock, logger: logger.child({ module: 'oidc' }) }) } : {}),
    settings: { timezone: config.timezone, openRegistration: config.openRegistration, trustProxy: config.trustProxy, tokenTtlS: config.tokenTtlS },
  };
  const app = createApp(deps);
  return {
    config,
    logger,
    store,
    deps,
    app,
    bridge,
    changeFeed,
    async stop() {
      await changeFeed.stop();
      events.off(wiring);
      await bridge?.stop();
      app.close();
      await mailer?.close();
      standings.close();
      await store.close();
    },
  };
}

export async function startCloud(config: CloudConfig, opts: CloudOptions = {}): Promise<RunningCloud> {
  const cloud = await composeCloud(config, opts);
  const { logger, store } = cloud;
  const clock = opts.clock ?? Date.now;
  const server = http.createServer(cloud.app.koa.callback());
  server.headersTimeout = 15_000;
  server.requestTimeout = 30_000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => resolve());
    });
  } catch (err) {
    await cloud.stop();
    throw err;
  }
  const addr = server.address() as AddressInfo;
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  const url = `http://${host}:${addr.port}`;
  logger.info({ url, database: store.dialect.kind, timezone: config.timezone }, 'attendance cloud listening');
  // Started once the server listens, so a failed start leaves no timer behind.
  const retention = startRetentionJob({ store, logger: logger.child({ module: 'retention' }), clock, retentionDays: config.retentionDays, timezone: config.timezone });
  // Absence warnings are mailed, so the job runs only where mail is configured.
  const warningMailer = config.mail ? createSmtpMailer(config.mail, logger.child({ module: 'mail' })) : null;
  const warnings = warningMailer
    ? startAbsenceWarningJob({
        store, mailer: warningMailer, logger: logger.child({ module: 'absence-warnings' }), clock, timezone: config.timezone,
        publicUrl: config.publicUrl, ...(config.absenceWarningsSchedule ? { schedule: config.absenceWarningsSchedule } : {}),
      })
    : null;

  return {
    ...cloud,
    url,
    async stop() {
      await retention.stop();
      await warnings?.stop();
      await warningMailer?.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await cloud.stop();
      logger.info('attendance cloud stopped');
    },
  };
}
