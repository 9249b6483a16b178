/**
 * The virtual world of the end-to-end tests: a virtual air (AirHub on a Unix socket), the cloud
 * on embedded defaults (real HTTP server, embedded broker on a free port, SQLite), students'
 * phones (the real noble in this process, on the air) and gateway child processes running
 * `attendance-gateway run --radio virtual` after `attendance-gateway provision`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino, type Logger } from 'pino';
import { AirHub } from '../../gateway/ble/virtual/air-hub.js';
import { startCloud, type RunningCloud } from '../../cloud/main.js';
import type { CloudConfig } from '../../cloud/config.js';
import { deriveSessionKey, tokenForWindow } from '../../shared/token.js';
import { CloudApi, createClassroom, type Classroom, type ClassroomSpec } from '../../scripts/classroom/api.js';
import { localCloudConfig } from '../../scripts/classroom/cloud.js';
import { GatewayProcess, provisionGateway, type GatewayLaunch } from '../../scripts/classroom/gateway-process.js';
import { PhoneListener } from '../../scripts/classroom/phones.js';

export interface World {
  dir: string;
  hub: AirHub;
  airAddress: string;
  config: CloudConfig;
  cloud: RunningCloud;
  api: CloudApi;
  adminToken: string;
  phones: PhoneListener;
  logger: Logger;
  gateways: GatewayProcess[];
  close(): Promise<void>;
}

/** `env` is added to the cloud's environment (MQTT_HOST, ...). */
export async function startWorld(env: Record<string, string> = {}): Promise<World> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'att-e2e-'));
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const hub = new AirHub(`unix:${path.join(dir, 'air.sock')}`);
  const airAddress = await hub.start();
  const admin = { email: 'admin@uni.example', password: 'e2e-admin-password' };
  const config = localCloudConfig({ dataDir: path.join(dir, 'cloud'), admin, logLevel: process.env.TEST_LOG_LEVEL ?? 'silent', env });
  const cloud = await startCloud(config, { logger });
  const api = new CloudApi(cloud.url);
  const adminToken = await api.login(admin.email, admin.password);
  const phones = await PhoneListener.start(hub, logger);
  const world: World = {
    dir, hub, airAddress, config, cloud, api, adminToken, phones, logger, gateways: [],
    async close() {
      for (const g of world.gateways) await g.stop();
      await phones.stop();
      await world.cloud.stop();
      await hub.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return world;
}

export interface RoomGateway {
  process: GatewayProcess;
  gatewayId: string;
  configPath: string;
  roomSecret: Buffer;
  dbPath: string;
}

/** Provisions the classroom's gateway with a one-time code and starts it (through `launch`, e.g. in a network namespace); resolves once it is online. */
export async function startGateway(w: World, c: Classroom, name: string, extraConfig: Record<string, unknown> = {}, launch: GatewayLaunch = {}): Promise<RoomGateway> {
  const issued = await w.api.must<{ gateway_id: string; provisioning_code: string }>(201, 'POST', `/api/v1/admin/rooms/${c.roomId}/gateways`, { token: w.adminToken, body: {} });
  const gwDir = path.join(w.dir, name);
  const configPath = await provisionGateway(w.cloud.url, issued.provisioning_code, { dir: gwDir, config: { heartbeat_s: 5, ...extraConfig } });
  const written = JSON.parse(fs.readFileSync(configPath, 'utf8')) as { room_secret: string; db_path: string };
  const proc = GatewayProcess.start(configPath, w.airAddress, launch);
  w.gateways.push(proc);
  await waitGateway(w, issued.gateway_id, (g) => g.state === 'online', 30_000, 'the gateway to come online');
  return { process: proc, gatewayId: issued.gateway_id, configPath, roomSecret: Buffer.from(written.room_secret, 'hex'), dbPath: written.db_path };
}

export interface GatewayStatus {
  gateway_id: string;
  state: string;
  outbox_depth: number | null;
  pending_commands: number;
  clock_skew_ms: number | null;
  last_heartbeat: string | null;
  checkin_service: boolean;
}

export async function waitGateway(w: World, gatewayId: string, pred: (g: GatewayStatus) => boolean, timeoutMs: number, what: string): Promise<GatewayStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const list = await w.api.must<{ items: GatewayStatus[] }>(200, 'GET', '/api/v1/admin/gateways', { token: w.adminToken });
    const g = list.items.find((i) => i.gateway_id === gatewayId);
    if (g && pred(g)) return g;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(g)})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function newClassroom(w: World, spec: ClassroomSpec): Promise<Classroom> {
  return createClassroom(w.api, w.adminToken, spec);
}

/** The token the room's gateway must advertise in window `w` of the session. */
export function expectedToken(roomSecret: Buffer, sessionId: string, window: number): string {
  return tokenForWindow(deriveSessionKey(roomSecret, sessionId), window).toString('hex');
}

export async function submit(w: World, token: string, frame: string) {
  return w.api.call<{ status?: string; error?: { code: string } }>('POST', '/api/v1/student/token/submit', { token, body: { frame, rssi: -60 } });
}
