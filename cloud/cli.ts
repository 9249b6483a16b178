#!/usr/bin/env node
/** `attendance-cloud`: runs the API (config from the environment, see README). */
import { EXIT_CONFIG } from '../shared/exit-codes.js';
import { ConfigError, loadCloudConfig } from './config.js';
import { startCloud } from './main.js';
import { IMPORT_USAGE, importOneRosterCommand } from './roster/oneroster/cli.js';

const USAGE = `usage: attendance-cloud [serve]
       ${IMPORT_USAGE.replace('usage: ', '')}

Configuration comes from the environment (PORT, HOST, DATABASE_URL, ATTENDANCE_DATA_DIR,
MQTT_PORT, MQTT_URL, ATTENDANCE_TIMEZONE, ATTENDANCE_ADMIN_EMAIL, ATTENDANCE_ADMIN_PASSWORD,
LOG_LEVEL, ...). See README.md for the full table.`;

async function main(argv: string[]): Promise<number> {
  const cmd = argv[0] ?? 'serve';
  if (cmd === '--help' || cmd === '-h' || cmd === 'help') {
    console.log(USAGE);
    return 0;
  }
  if (cmd === 'import-oneroster') return importOneRosterCommand(argv.slice(1));
  if (cmd !== 'serve') {
    console.error(`unknown command: ${cmd}\n\n${USAGE}`);
    return 2;
  }
  let config;
  try {
    config = loadCloudConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`attendance-cloud: refusing to start, ${e.message}`);
      return EXIT_CONFIG;
    }
    throw e;
  }
  let cloud;
  try {
    cloud = await startCloud(config);
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`attendance-cloud: refusing to start, ${e.message}`);
      return EXIT_CONFIG;
    }
    const err = e as NodeJS.ErrnoException & { port?: number };
    if (err.code === 'EADDRINUSE') {
      const which = err.port === config.port ? 'PORT' : 'MQTT_PORT (the embedded MQTT broker; or set MQTT_URL to use an external broker)';
      console.error(`attendance-cloud: port ${err.port} is already in use; choose another with ${which}`);
      return 75; // EX_TEMPFAIL: systemd may retry once the port is free
    }
    throw e;
  }
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    cloud.logger.info({ signal }, 'shutting down');
    cloud.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        cloud.logger.error({ err }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  return -1;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    console.error('attendance-cloud: failed to start:', err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
