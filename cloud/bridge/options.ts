/**
 * Options of the MQTT side that the core config does not carry, read from the environment and
 * validated like the rest (docs/architecture.md: refuse to start rather than run half-configured):
 *
 *   MQTT_TLS_CERT_FILE + MQTT_TLS_KEY_FILE  the embedded broker listens with TLS (mqtts)
 *   MQTT_CA_FILE                            CA the cloud's client trusts (external mqtts broker)
 *   MQTT_PUBLIC_URL                         broker URL handed to provisioned gateways
 *   MQTT_CLIENT_ID                          the cloud's client id (default cloud-<hostname>)
 *   MQTT_ACK_TIMEOUT_MS                     how long session start/end waits for the gateway
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { z } from 'zod';
import { ConfigError } from '../config.js';

const schema = z
  .object({
    MQTT_TLS_CERT_FILE: z.string().min(1).optional(),
    MQTT_TLS_KEY_FILE: z.string().min(1).optional(),
    MQTT_CA_FILE: z.string().min(1).optional(),
    MQTT_PUBLIC_URL: z.string().regex(/^(mqtts?|wss?):\/\/[^\s]+$/, 'must be an mqtt:// or mqtts:// URL').optional(),
    MQTT_CLIENT_ID: z.string().regex(/^cloud-[A-Za-z0-9_.-]{1,60}$/, 'must start with cloud- (the broker requires it)').optional(),
    MQTT_ACK_TIMEOUT_MS: z.coerce.number().int().min(0).max(30_000).default(2000),
  })
  .refine((e) => (e.MQTT_TLS_CERT_FILE === undefined) === (e.MQTT_TLS_KEY_FILE === undefined), {
    message: 'MQTT_TLS_CERT_FILE and MQTT_TLS_KEY_FILE must be set together',
    path: ['MQTT_TLS_KEY_FILE'],
  });

export interface BridgeOptions {
  tls: { cert: Buffer; key: Buffer } | null;
  ca: Buffer | undefined;
  publicUrl: string | null;
  clientId: string;
  ackTimeoutMs: number;
}

function readFile(variable: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError([`${variable}: cannot read ${path}: ${(err as Error).message}`]);
  }
}

export function loadBridgeOptions(env: NodeJS.ProcessEnv = process.env): BridgeOptions {
  const parsed = schema.safeParse(env);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  const e = parsed.data;
  const host = os.hostname().replace(/[^A-Za-z0-9_.-]/g, '').slice(0, 40) || 'host';
  return {
    tls: e.MQTT_TLS_CERT_FILE && e.MQTT_TLS_KEY_FILE ? { cert: readFile('MQTT_TLS_CERT_FILE', e.MQTT_TLS_CERT_FILE), key: readFile('MQTT_TLS_KEY_FILE', e.MQTT_TLS_KEY_FILE) } : null,
    ca: e.MQTT_CA_FILE ? readFile('MQTT_CA_FILE', e.MQTT_CA_FILE) : undefined,
    publicUrl: e.MQTT_PUBLIC_URL ?? null,
    clientId: e.MQTT_CLIENT_ID ?? `cloud-${host}`,
    ackTimeoutMs: e.MQTT_ACK_TIMEOUT_MS,
  };
}
