/**
 * Gateway configuration: a JSON file (default /etc/attendance/gateway.json) with environment
 * overrides ATTENDANCE_GATEWAY_<FIELD>. Validated once at start; the daemon refuses to run
 * half-configured (docs/architecture.md), and every error names the field so an installer can fix it.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { DEFAULT_COMPANY_ID } from '../shared/advertisement.js';
import { parseHex } from '../shared/frame.js';
import { DEFAULT_TOPIC_PREFIX, isValidGatewayId } from '../shared/mqtt/topics.js';
import { DEFAULT_PERIOD_S, MAX_PERIOD_S, MIN_PERIOD_S, ROOM_SECRET_BYTES } from '../shared/token.js';

export const DEFAULT_CONFIG_PATH = '/etc/attendance/gateway.json';
export const ENV_PREFIX = 'ATTENDANCE_GATEWAY_';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const fileSchema = z
  .object({
    gateway_id: z.string().refine(isValidGatewayId, 'must match [A-Za-z0-9_-]{1,64}'),
    room_code: z.number().int().min(0).max(0xffffffff),
    room_secret: z.string().regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex characters (32 bytes)').optional(),
    room_secret_file: z.string().min(1).optional(),
    mqtt_url: z.string().regex(/^(mqtts?|tcp|ssl|wss?):\/\/[^\s]+$/, 'must be an mqtt://, mqtts://, ws:// or wss:// URL'),
    mqtt_username: z.string().min(1).max(128).optional(),
    mqtt_password: z.string().min(1).max(512).optional(),
    mqtt_ca_file: z.string().min(1).optional(),
    topic_prefix: z.string().regex(/^[^#+\s]+[^/#+\s]$/, 'must be a topic path without wildcards').default(DEFAULT_TOPIC_PREFIX),
    hci_device_id: z.number().int().min(0).max(31).default(0),
    db_path: z.string().min(1).default('/var/lib/attendance-gateway/gateway.db'),
    company_id: z.number().int().min(0).max(0xffff).default(DEFAULT_COMPANY_ID),
    default_period_s: z.number().int().min(MIN_PERIOD_S).max(MAX_PERIOD_S).default(DEFAULT_PERIOD_S),
    heartbeat_s: z.number().int().min(5).max(3600).default(60),
    idle_frame: z.boolean().default(false),
    local_name: z.string().min(1).max(8, 'must be at most 8 bytes (it shares the 31-byte scan response with the service UUID)').default('ATT'),
    log_level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
  })
  .strict();

export type ConfigFile = z.input<typeof fileSchema>;

export interface GatewayConfig {
  gatewayId: string;
  roomCode: number;
  roomSecret: Buffer;
  mqtt: { url: string; username: string; password: string | undefined; ca: Buffer | undefined; topicPrefix: string };
  hciDeviceId: number;
  dbPath: string;
  companyId: number;
  defaultPeriodS: number;
  heartbeatS: number;
  idleFrame: boolean;
  localName: string;
  logLevel: z.infer<typeof fileSchema>['log_level'];
}

/** How an environment string becomes a JSON value for each field. */
const ENV_KINDS: Record<keyof z.infer<typeof fileSchema>, 'string' | 'number' | 'boolean'> = {
  gateway_id: 'string',
  room_code: 'number',
  room_secret: 'string',
  room_secret_file: 'string',
  mqtt_url: 'string',
  mqtt_username: 'string',
  mqtt_password: 'string',
  mqtt_ca_file: 'string',
  topic_prefix: 'string',
  hci_device_id: 'number',
  db_path: 'string',
  company_id: 'number',
  default_period_s: 'number',
  heartbeat_s: 'number',
  idle_frame: 'boolean',
  local_name: 'string',
  log_level: 'string',
};

function envValue(field: string, kind: 'string' | 'number' | 'boolean', raw: string): unknown {
  if (kind === 'string') return raw;
  if (kind === 'boolean') {
    if (raw === 'true' || raw === '1') return true;
    if (raw === 'false' || raw === '0') return false;
    throw new ConfigError(`config field ${field} (env ${ENV_PREFIX}${field.toUpperCase()}): must be true or false`);
  }
  // Number('') is 0 and Number('0x10') is 16: accept only plain decimal or 0x hex integers.
  if (!/^(\d+|0x[0-9a-fA-F]+)$/.test(raw)) {
    throw new ConfigError(`config field ${field} (env ${ENV_PREFIX}${field.toUpperCase()}): must be an integer`);
  }
  return Number(raw);
}

function readJsonFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new ConfigError(`config file ${path} must contain a JSON object`);
  }
  return json as Record<string, unknown>;
}

function readFileField(field: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(`config field ${field}: cannot read ${path}: ${(err as Error).message}`);
  }
}

function resolveRoomSecret(cfg: z.infer<typeof fileSchema>): Buffer {
  if (cfg.room_secret && cfg.room_secret_file) {
    throw new ConfigError('config field room_secret_file: give either room_secret or room_secret_file, not both');
  }
  if (cfg.room_secret) return parseHex('room_secret', cfg.room_secret, ROOM_SECRET_BYTES);
  if (!cfg.room_secret_file) throw new ConfigError('config field room_secret: required (or room_secret_file)');
  const text = readFileField('room_secret_file', cfg.room_secret_file).toString('utf8').trim();
  if (!/^[0-9a-fA-F]{64}$/.test(text)) {
    throw new ConfigError(`config field room_secret_file: ${cfg.room_secret_file} must contain 64 hex characters (32 bytes)`);
  }
  return Buffer.from(text, 'hex');
}

export interface LoadOptions {
  /** Path of the JSON file; when omitted the default path is used if it exists, else env only. */
  path?: string;
  env?: NodeJS.ProcessEnv;
}

/** Merges file and environment, validates, and resolves secrets. Throws ConfigError naming the field. */
export function loadConfig(opts: LoadOptions = {}): GatewayConfig {
  const env = opts.env ?? process.env;
  const path = opts.path ?? env[`${ENV_PREFIX}CONFIG`] ?? DEFAULT_CONFIG_PATH;
  const explicit = opts.path !== undefined || env[`${ENV_PREFIX}CONFIG`] !== undefined;
  let raw: Record<string, unknown> = {};
  try {
    raw = readJsonFile(path);
  } catch (err) {
    // Without an explicit path a missing default file is fine: everything may come from the env.
    if (explicit || !/ENOENT/.test((err as Error).message)) throw err;
  }
  for (const [field, kind] of Object.entries(ENV_KINDS)) {
    const value = env[`${ENV_PREFIX}${field.toUpperCase()}`];
    if (value !== undefined) raw[field] = envValue(field, kind, value);
  }
  return validateConfig(raw);
}

export function validateConfig(raw: Record<string, unknown>): GatewayConfig {
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.length > 0 ? issue.path.join('.') : undefined;
    if (issue.code === 'unrecognized_keys') {
      throw new ConfigError(`config field ${issue.keys.join(', ')}: unknown field`);
    }
    throw new ConfigError(`config field ${field ?? '(root)'}: ${issue.message}`);
  }
  const cfg = parsed.data;
  const roomSecret = resolveRoomSecret(cfg);
  return {
    gatewayId: cfg.gateway_id,
    roomCode: cfg.room_code,
    roomSecret,
    mqtt: {
      url: cfg.mqtt_url,
      username: cfg.mqtt_username ?? cfg.gateway_id,
      password: cfg.mqtt_password,
      ca: cfg.mqtt_ca_file ? readFileField('mqtt_ca_file', cfg.mqtt_ca_file) : undefined,
      topicPrefix: cfg.topic_prefix,
    },
    hciDeviceId: cfg.hci_device_id,
    dbPath: cfg.db_path,
    companyId: cfg.company_id,
    defaultPeriodS: cfg.default_period_s,
    heartbeatS: cfg.heartbeat_s,
    idleFrame: cfg.idle_frame,
    localName: cfg.local_name,
    logLevel: cfg.log_level,
  };
}
