import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, validateConfig } from '../../gateway/config.js';
import { memoryLogger } from '../fakes/memory-logger.js';
import { ROOM_SECRET_HEX, tempDir } from './classroom.js';

const valid = {
  gateway_id: 'room-101',
  room_code: 74565,
  room_secret: ROOM_SECRET_HEX,
  mqtt_url: 'mqtts://broker.example.edu:8883',
  mqtt_password: 'gateway-secret-xyz',
};

function errorOf(raw: Record<string, unknown>): string {
  try {
    validateConfig(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('config was accepted');
}

describe('gateway config', () => {
  const dirs: Array<() => void> = [];
  afterEach(() => dirs.splice(0).forEach((c) => c()));

  it('accepts a minimal installer config and fills the documented defaults', () => {
    const cfg = validateConfig(valid);
    expect(cfg.gatewayId).toBe('room-101');
    expect(cfg.roomSecret.toString('hex')).toBe(ROOM_SECRET_HEX);
    expect(cfg.mqtt.username).toBe('room-101');
    expect(cfg.mqtt.topicPrefix).toBe('att/v1');
    expect(cfg.companyId).toBe(0xffff);
    expect(cfg.defaultPeriodS).toBe(300);
    expect(cfg.heartbeatS).toBe(60);
    expect(cfg.idleFrame).toBe(false);
    expect(cfg.hciDeviceId).toBe(0);
  });

  it.each([
    ['gateway_id', 'room 101!'],
    ['gateway_id', undefined],
    ['room_code', -1],
    ['room_code', 2 ** 32],
    ['room_code', 'A12'],
    ['room_secret', 'abcd'],
    ['room_secret', 'zz'.repeat(32)],
    ['mqtt_url', 'http://broker'],
    ['mqtt_url', undefined],
    ['mqtt_username', ''],
    ['mqtt_password', ''],
    ['mqtt_ca_file', ''],
    ['topic_prefix', 'att/#'],
    ['hci_device_id', 99],
    ['db_path', ''],
    ['company_id', 0x10000],
    ['default_period_s', 5],
    ['default_period_s', 3601],
    ['heartbeat_s', 1],
    ['idle_frame', 'yes'],
    ['local_name', 'a-very-long-room-name'],
    ['log_level', 'loud'],
  ])('refuses %s = %j with a message naming the field', (field, value) => {
    const raw: Record<string, unknown> = { ...valid, [field]: value };
    if (value === undefined) delete raw[field];
    expect(errorOf(raw)).toMatch(new RegExp(`^config field ${field}:`));
  });

  it('names an unknown field (a typo must not silently fall back to a default)', () => {
    expect(errorOf({ ...valid, heartbeat_sec: 30 })).toBe('config field heartbeat_sec: unknown field');
  });

  it('requires a room secret, inline or from a file, but not both', () => {
    const { room_secret: _omit, ...noSecret } = valid;
    expect(errorOf(noSecret)).toMatch(/^config field room_secret: required/);
    expect(errorOf({ ...valid, room_secret_file: '/x' })).toMatch(/^config field room_secret_file: give either/);
  });

  it('reads the room secret from a file and names the file field when it is wrong', () => {
    const { dir, cleanup } = tempDir();
    dirs.push(cleanup);
    const { room_secret: _omit, ...noSecret } = valid;
    const good = join(dir, 'room.secret');
    writeFileSync(good, `${ROOM_SECRET_HEX}\n`);
    expect(validateConfig({ ...noSecret, room_secret_file: good }).roomSecret.toString('hex')).toBe(ROOM_SECRET_HEX);
    const bad = join(dir, 'bad.secret');
    writeFileSync(bad, 'not hex');
    expect(errorOf({ ...noSecret, room_secret_file: bad })).toMatch(/^config field room_secret_file: .* must contain 64 hex/);
    expect(errorOf({ ...noSecret, room_secret_file: join(dir, 'missing') })).toMatch(/^config field room_secret_file: cannot read/);
  });

  it('names mqtt_ca_file when the CA cannot be read', () => {
    expect(errorOf({ ...valid, mqtt_ca_file: '/nonexistent/ca.pem' })).toMatch(/^config field mqtt_ca_file: cannot read/);
  });

  it('reads the JSON file and lets ATTENDANCE_GATEWAY_* override it, typed per field', () => {
    const { dir, cleanup } = tempDir();
    dirs.push(cleanup);
    const path = join(dir, 'gateway.json');
    writeFileSync(path, JSON.stringify(valid));
    const cfg = loadConfig({
      path,
      env: { ATTENDANCE_GATEWAY_ROOM_CODE: '0x10', ATTENDANCE_GATEWAY_IDLE_FRAME: 'true', ATTENDANCE_GATEWAY_MQTT_URL: 'mqtt://127.0.0.1:1883' },
    });
    expect(cfg.roomCode).toBe(16);
    expect(cfg.idleFrame).toBe(true);
    expect(cfg.mqtt.url).toBe('mqtt://127.0.0.1:1883');
    expect(() => loadConfig({ path, env: { ATTENDANCE_GATEWAY_HEARTBEAT_S: 'soon' } })).toThrow(
      /config field heartbeat_s \(env ATTENDANCE_GATEWAY_HEARTBEAT_S\): must be an integer/,
    );
  });

  it('says which file is unreadable or not JSON', () => {
    const { dir, cleanup } = tempDir();
    dirs.push(cleanup);
    const path = join(dir, 'gateway.json');
    writeFileSync(path, '{"gateway_id": ');
    expect(() => loadConfig({ path, env: {} })).toThrow(`config file ${path} is not valid JSON`);
    expect(() => loadConfig({ path: join(dir, 'nope.json'), env: {} })).toThrow(/cannot read config file/);
  });

  it('never lets the room secret or the MQTT password reach the log', () => {
    const { log, raw } = memoryLogger();
    const cfg = validateConfig(valid);
    log.info({ config: cfg, room_secret: ROOM_SECRET_HEX, password: 'gateway-secret-xyz' }, 'started');
    const text = raw.join('\n');
    expect(text).toContain('room-101');
    expect(text).not.toContain(ROOM_SECRET_HEX);
    expect(text).not.toContain('gateway-secret-xyz');
    expect(text).not.toContain('"type":"Buffer"');
  });
});
