/**
 * Composition root of the cloud process: config → logger → store (migrated) → keys → app →
 * HTTP server. Later features (MQTT broker and bridge, scheduled jobs) plug in here.
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
import { createLoginLimiter } from './auth/login-limiter.js';
import { createMetrics } from './metrics.js';
import { CloudEvents } from './events.js';
import { createVerifiedLookup } from './webauthn/verified-lookup.js';
import { startRetentionJob } from './jobs/retention.js';
import { createApp } from './http/app.js';
import type { AppDeps } from './http/deps.js';
import { startBridge, type RunningBridge } from './bridge/start.js';

export interface RunningCloud {
  url: string;
  logger: Logger;
  store: Store;
  deps: AppDeps;
  /** The MQTT broker/link/ingest; null with MQTT_DISABLED. */
  bridge: RunningBridge | null;
  stop(): Promise<void>;
}

export async function startCloud(config: CloudConfig, opts: { logger?: Logger; clock?: () => number } = {}): Promise<RunningCloud> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  const clock = opts.clock ?? Date.now;
  const store = openStore(config.databaseUrl);
  const applied = await migrateToLatest(store);
  if (applied.length) logger.info({ migrations: applied }, 'database migrated');
  await ensureFirstAdmin(store.accounts, config.admin, clock(), logger.child({ module: 'accounts' }), path.join(config.dataDir, 'initial-admin.txt'));

  const deps: AppDeps = {
    store,
    tokens: createTokenService(loadOrCreateSigningKey(config.jwtSecretFile), config.tokenTtlS, clock),
    logger: logger.child({ module: 'http' }),
    clock,
    loginLimiter: createLoginLimiter(config.login.maxAttempts, config.login.windowS, clock),
    metrics: createMetrics({ defaultMetrics: true }),
    events: new CloudEvents(logger),
    verifiedLookup: createVerifiedLookup(config.webauthn.window, clock),
    webauthn: config.webauthn,
    settings: { timezone: config.timezone, openRegistration: config.openRegistration, trustProxy: config.trustProxy, tokenTtlS: config.tokenTtlS },
  };
  const bridge = config.mqtt.disabled
    ? null
    : await startBridge(config.mqtt, { store, events: deps.events, verifiedLookup: deps.verifiedLookup, clock, logger, timezone: config.timezone, registry: deps.metrics.registry });
  if (bridge) deps.gateways = bridge.hub;
  const app = createApp(deps);
  const server = http.createServer(app.koa.callback());
  server.headersTimeout = 15_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  const url = `http://${host}:${addr.port}`;
  logger.info({ url, database: store.dialect.kind, timezone: config.timezone }, 'attendance cloud listening');
  // Started once the server listens, so a failed start leaves no timer behind.
  const retention = startRetentionJob({ store, logger: logger.child({ module: 'retention' }), clock, retentionDays: config.retentionDays, timezone: config.timezone });

  return {
    url,
    logger,
    store,
    deps,
    bridge,
    async stop() {
      await retention.stop();
      await bridge?.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await store.close();
      logger.info('attendance cloud stopped');
    },
  };
}
