import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadCloudConfig } from '../../cloud/config.js';

describe('cloud configuration', () => {
  it('has working embedded defaults', () => {
    const c = loadCloudConfig({});
    expect(c).toMatchObject({ port: 8000, timezone: 'UTC', admin: null, mqtt: { port: 1883, url: null } });
    expect(c.databaseUrl).toMatch(/^sqlite:.*data\/attendance\.db$/);
    expect(c.jwtSecretFile).toMatch(/data\/jwt-secret$/);
    expect(c.mqtt).toMatchObject({ tls: null, ca: null, publicUrl: null, ackTimeoutMs: 2000 });
    expect(c.mqtt.clientId).toMatch(/^cloud-[A-Za-z0-9_.-]+$/);
  });

  it('reads the MQTT side from the same schema, files included', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cloud-config-'));
    fs.writeFileSync(path.join(dir, 'ca.pem'), 'CA');
    const c = loadCloudConfig({ MQTT_CA_FILE: path.join(dir, 'ca.pem'), MQTT_PUBLIC_URL: 'mqtts://broker.uni.example:8883', MQTT_CLIENT_ID: 'cloud-a', MQTT_ACK_TIMEOUT_MS: '500' });
    expect(c.mqtt).toMatchObject({ publicUrl: 'mqtts://broker.uni.example:8883', clientId: 'cloud-a', ackTimeoutMs: 500 });
    expect(c.mqtt.ca?.toString()).toBe('CA');
  });

  it("reads the embedded broker's limits, with campus defaults: a packet fits a full payload, and 2,000 gateways fit behind one NAT address", () => {
    expect(loadCloudConfig({}).mqtt.limits).toEqual({ maxPacketBytes: 65_536 + 1024, maxConnectBytes: 4096, connectTimeoutMs: 5000, maxConnections: 5000, maxConnectionsPerAddress: 2500 });
    const c = loadCloudConfig({ MQTT_MAX_PACKET_BYTES: '8192', MQTT_MAX_CONNECT_BYTES: '512', MQTT_CONNECT_TIMEOUT_MS: '2000', MQTT_MAX_CONNECTIONS: '300', MQTT_MAX_CONNECTIONS_PER_ADDRESS: '10' });
    expect(c.mqtt.limits).toEqual({ maxPacketBytes: 8192, maxConnectBytes: 512, connectTimeoutMs: 2000, maxConnections: 300, maxConnectionsPerAddress: 10 });
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ ATTENDANCE_TIMEZONE: 'Mars/Olympus' }, 'ATTENDANCE_TIMEZONE'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ MQTT_URL: 'http://broker' }, 'MQTT_URL'],
    [{ ATTENDANCE_ADMIN_EMAIL: 'admin@uni.example' }, 'ATTENDANCE_ADMIN_PASSWORD'],
    [{ ATTENDANCE_ADMIN_EMAIL: 'admin@uni.example', ATTENDANCE_ADMIN_PASSWORD: 'short' }, 'ATTENDANCE_ADMIN_PASSWORD'],
    [{ ATTENDANCE_ADMIN_EMAIL: 'admin@uni.example', ATTENDANCE_ADMIN_PASSWORD: 'password1234' }, 'ATTENDANCE_ADMIN_PASSWORD'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ MQTT_TLS_CERT_FILE: '/etc/attendance/broker.crt' }, 'MQTT_TLS_KEY_FILE'],
    [{ MQTT_TLS_CERT_FILE: '/nonexistent/broker.crt', MQTT_TLS_KEY_FILE: '/nonexistent/broker.key' }, 'MQTT_TLS_CERT_FILE'],
    [{ MQTT_CA_FILE: '/nonexistent/ca.pem' }, 'MQTT_CA_FILE'],
    [{ MQTT_PUBLIC_URL: 'http://broker.uni.example' }, 'MQTT_PUBLIC_URL'],
    [{ MQTT_CLIENT_ID: 'gw-pretending' }, 'MQTT_CLIENT_ID'],
    [{ MQTT_ACK_TIMEOUT_MS: '60000' }, 'MQTT_ACK_TIMEOUT_MS'],
    [{ MQTT_MAX_PACKET_BYTES: '300000000' }, 'MQTT_MAX_PACKET_BYTES'],
    [{ MQTT_MAX_CONNECT_BYTES: '10' }, 'MQTT_MAX_CONNECT_BYTES'],
    [{ MQTT_CONNECT_TIMEOUT_MS: '0' }, 'MQTT_CONNECT_TIMEOUT_MS'],
    [{ MQTT_MAX_CONNECTIONS: '0' }, 'MQTT_MAX_CONNECTIONS'],
    [{ MQTT_MAX_CONNECTIONS_PER_ADDRESS: 'many' }, 'MQTT_MAX_CONNECTIONS_PER_ADDRESS'],
  ])('refuses %j naming %s', (env, name) => {
    try {
      loadCloudConfig(env as NodeJS.ProcessEnv);
      expect.unreachable('should have thrown');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).message).toContain(name);
      expect((e as ConfigError).message).not.toContain('short'); // the bad secret is not echoed
    }
  });
});
