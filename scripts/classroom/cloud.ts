/**
 * The cloud on embedded defaults for the demo, the end-to-end tests and the benchmarks: the real
 * composition root (cloud/main.ts) with configuration from an environment built here, SQLite in
 * `dataDir`, the embedded broker on `mqttPort` (0: a free port — 1883 may belong to Mosquitto).
 */
import type { Logger } from 'pino';
import { loadCloudConfig, type CloudConfig } from '../../cloud/config.js';
import { startCloud, type RunningCloud } from '../../cloud/main.js';

export interface LocalCloudOptions {
  dataDir: string;
  port?: number;
  host?: string;
  mqttPort?: number;
  admin: { email: string; password: string };
  logger?: Logger;
  logLevel?: string;
  env?: Record<string, string>;
}

export function localCloudConfig(o: LocalCloudOptions): CloudConfig {
  return loadCloudConfig({
    PORT: String(o.port ?? 0),
    HOST: o.host ?? '127.0.0.1',
    ATTENDANCE_DATA_DIR: o.dataDir,
    MQTT_PORT: String(o.mqttPort ?? 0),
    MQTT_HOST: '127.0.0.1',
    ATTENDANCE_ADMIN_EMAIL: o.admin.email,
    ATTENDANCE_ADMIN_PASSWORD: o.admin.password,
    LOG_LEVEL: o.logLevel ?? 'warn',
    ...o.env,
  });
}

export function startLocalCloud(o: LocalCloudOptions): Promise<RunningCloud> {
  return startCloud(localCloudConfig(o), o.logger ? { logger: o.logger } : {});
}
