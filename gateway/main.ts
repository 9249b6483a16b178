/**
 * Composition root of the gateway daemon: the only place that reads the environment, creates the
 * root logger, opens the database, picks the radio and installs process-level handlers.
 */
import type { Logger } from 'pino';
import { EXIT_CONFIG } from '../shared/exit-codes.js';
import type { Advertiser } from './ble/advertiser.js';
import { createAdvertiser, type RadioKind } from './ble/radio.js';
import { ConfigError, loadConfig, type GatewayConfig } from './config.js';
import { GatewayDaemon } from './daemon.js';
import { GatewayEvents } from './events.js';
import { createLogger } from './log.js';
import { StoreOpenError } from './store/errors.js';
import { openStore, type GatewayStore } from './store/store.js';
import { GATEWAY_VERSION } from './version.js';

export interface RunOptions {
  configPath?: string;
  radio: RadioKind;
  env?: NodeJS.ProcessEnv;
}

/** Exit statuses: 0 clean stop, 1 crash (systemd restarts), EXIT_CONFIG fix-me-first (systemd does not). */
export const EXIT_CRASH = 1;

export interface RunningGateway {
  daemon: GatewayDaemon;
  config: GatewayConfig;
  store: GatewayStore;
  advertiser: Advertiser;
  log: Logger;
  stop(): Promise<void>;
}

/** Builds and starts the daemon. Throws ConfigError / StoreOpenError before anything is on air. */
/** Commands the daemon's virtual controller keeps in its inspection log. */
const DAEMON_HCI_LOG = 256;

export async function startGateway(opts: RunOptions, log?: Logger): Promise<RunningGateway> {
  const env = opts.env ?? process.env;
  const config = loadConfig({ ...(opts.configPath !== undefined && { path: opts.configPath }), env });
  const root = log ?? createLogger(config.logLevel);
  root.info({ gatewayId: config.gatewayId, roomCode: config.roomCode, radio: opts.radio, version: GATEWAY_VERSION, db: config.dbPath }, 'gateway starting');
  const events = new GatewayEvents(root);
  const store = openStore(config.dbPath, config.gatewayId, config.mqtt.topicPrefix, { events });
  // On the virtual radio nobody outside this process reads the controller's command log: it keeps
  // the last few commands for a debugger, not the 10,000 a test inspects.
  const advertiser = createAdvertiser({ kind: opts.radio, logger: root.child({ module: 'ble' }), hciDeviceId: config.hciDeviceId, virtual: { logLimit: DAEMON_HCI_LOG } });
  const daemon = new GatewayDaemon({ config, store, events, advertiser, log: root, version: GATEWAY_VERSION, radioKind: opts.radio, env });
  await daemon.start();
  let stopping: Promise<void> | null = null;
  return {
    daemon,
    config,
    store,
    advertiser,
    log: root,
    stop: () => {
      stopping ??= daemon.stop().finally(() => store.close());
      return stopping;
    },
  };
}

/** `attendance-gateway run`: starts, runs until SIGTERM/SIGINT, and returns the exit status. */
export async function runGateway(opts: RunOptions): Promise<number> {
  const bootLog = createLogger((opts.env ?? process.env).LOG_LEVEL === 'debug' ? 'debug' : 'info');
  let running: RunningGateway;
  try {
    running = await startGateway(opts);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof StoreOpenError) {
      // The message names the field or the file; restarting cannot fix it, so say so and stop.
      bootLog.fatal({ code: err instanceof StoreOpenError ? err.code : 'config' }, err.message);
      return EXIT_CONFIG;
    }
    bootLog.fatal({ err }, 'gateway failed to start');
    return EXIT_CRASH;
  }
  const { log } = running;
  process.on('uncaughtException', (err) => {
    // State is in SQLite, committed per change: exiting and letting systemd restart is safe.
    log.fatal({ err }, 'uncaught exception; exiting for a clean restart');
    process.exit(EXIT_CRASH);
  });
  process.on('unhandledRejection', (reason) => {
    log.fatal({ err: reason }, 'unhandled rejection; exiting for a clean restart');
    process.exit(EXIT_CRASH);
  });
  return new Promise<number>((resolve) => {
    const shutdown = (signal: string) => {
      log.info({ signal }, 'stopping');
      running.stop().then(
        () => resolve(0),
        (err: unknown) => {
          log.error({ err }, 'error while stopping');
          resolve(EXIT_CRASH);
        },
      );
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  });
}
