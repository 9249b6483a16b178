/** A classroom for gateway tests: a config, a store in a temp dir, and the protocol's golden secret. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig, type GatewayConfig } from '../../gateway/config.js';
import type { GatewayEvents } from '../../gateway/events.js';
import { openStore, type GatewayStore } from '../../gateway/store/store.js';

/** The golden-vector room of docs/protocol.md. */
export const ROOM_SECRET_HEX = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';
export const ROOM_CODE = 0x00012345;
export const SESSION_ID = '0192f3a0-7c00-7000-8000-000000000001';

export function tempDir(prefix = 'gw-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function classroomConfig(overrides: Record<string, unknown> = {}): GatewayConfig {
  return validateConfig({
    gateway_id: 'room-101',
    room_code: ROOM_CODE,
    room_secret: ROOM_SECRET_HEX,
    mqtt_url: 'mqtt://127.0.0.1:1',
    db_path: ':memory:',
    ...overrides,
  });
}

export function memoryStore(config: GatewayConfig = classroomConfig(), events?: GatewayEvents): GatewayStore {
  return openStore(':memory:', config.gatewayId, config.mqtt.topicPrefix, { events });
}

export function outboxEvents(store: GatewayStore): Array<{ id: string; type: string; data: Record<string, unknown> }> {
  return store.outbox.after(0, 100_000).map((m) => JSON.parse(m.payload) as { id: string; type: string; data: Record<string, unknown> });
}
