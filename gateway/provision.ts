/**
 * `attendance-gateway provision --cloud URL --code CODE [--config FILE]` (docs/operations.md): trades the
 * one-time provisioning code an admin got from `POST /api/v1/admin/rooms/{id}/gateways` for the
 * gateway's credentials and the room secret, and writes them into the gateway config file with
 * mode 0600. Fields an installer set before (db_path, hci_device_id, company_id, ...) are kept;
 * the identity fields are replaced. The file is validated as the daemon would load it, written to
 * a temporary file and renamed, so a crash never leaves half a config. Secrets are never printed.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { ConfigError, DEFAULT_CONFIG_PATH, validateConfig } from './config.js';

const answerSchema = z.object({
  gateway_id: z.string(),
  room_code: z.number().int(),
  config: z.object({
    gateway_id: z.string(), room_code: z.number().int(), room_secret: z.string(), mqtt_url: z.string(), mqtt_username: z.string(), mqtt_password: z.string(), topic_prefix: z.string(),
  }),
});

export class ProvisionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProvisionError';
  }
}

export interface ProvisionOptions {
  cloudUrl: string;
  code: string;
  configPath?: string;
  fetchImpl?: typeof fetch;
}

export interface ProvisionResult {
  gatewayId: string;
  roomCode: number;
  mqttUrl: string;
  configPath: string;
}

function existingConfig(path: string): Record<string, unknown> {
  if (!existsSync(path)) return {};
  try {
    const json = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    return json && typeof json === 'object' && !Array.isArray(json) ? (json as Record<string, unknown>) : {};
  } catch {
    throw new ProvisionError(`${path} exists but is not a JSON object; move it away first`);
  }
}

/** Writes `text` to `path` readable by the owner only, atomically (temp file + rename). */
export function writePrivateFile(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

export async function provision(opts: ProvisionOptions): Promise<ProvisionResult> {
  const configPath = opts.configPath ?? DEFAULT_CONFIG_PATH;
  const previous = existingConfig(configPath);
  let base: URL;
  try {
    base = new URL(opts.cloudUrl);
  } catch {
    throw new ProvisionError(`--cloud must be a URL such as https://attendance.example.edu, got ${opts.cloudUrl}`);
  }
  const url = new URL('/api/v1/gateways/provision', base);
  let res: Response;
  try {
    res = await (opts.fetchImpl ?? fetch)(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code: opts.code }) });
  } catch (err) {
    throw new ProvisionError(`cannot reach ${url.origin}: ${(err as Error).message}`);
  }
  const body = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
  if (!res.ok) throw new ProvisionError(`the cloud refused the code (${res.status} ${body?.error?.code ?? ''}): ${body?.error?.message ?? 'no details'}`);
  const answer = answerSchema.safeParse(body);
  if (!answer.success) throw new ProvisionError('the cloud answered something that is not a provisioning answer');
  const c = answer.data.config;
  const merged: Record<string, unknown> = { ...previous, ...c };
  delete merged.room_secret_file; // the secret is now inline; both together would be refused
  try {
    validateConfig(merged);
  } catch (err) {
    if (err instanceof ConfigError) throw new ProvisionError(`the resulting config would not load: ${err.message}`);
    throw err;
  }
  writePrivateFile(configPath, `${JSON.stringify(merged, null, 2)}\n`);
  return { gatewayId: c.gateway_id, roomCode: c.room_code, mqttUrl: c.mqtt_url, configPath };
}
