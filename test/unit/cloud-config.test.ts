import { describe, expect, it } from 'vitest';
import { ConfigError, loadCloudConfig } from '../../cloud/config.js';

describe('cloud configuration', () => {
  it('has working embedded defaults', () => {
    const c = loadCloudConfig({});
    expect(c).toMatchObject({ port: 8000, timezone: 'UTC', admin: null, mqtt: { port: 1883, url: null } });
    expect(c.databaseUrl).toMatch(/^sqlite:.*data\/attendance\.db$/);
    expect(c.jwtSecretFile).toMatch(/data\/jwt-secret$/);
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ ATTENDANCE_TIMEZONE: 'Mars/Olympus' }, 'ATTENDANCE_TIMEZONE'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ MQTT_URL: 'http://broker' }, 'MQTT_URL'],
    [{ ATTENDANCE_ADMIN_EMAIL: 'admin@uni.example' }, 'ATTENDANCE_ADMIN_PASSWORD'],
    [{ ATTENDANCE_ADMIN_EMAIL: 'admin@uni.example', ATTENDANCE_ADMIN_PASSWORD: 'short' }, 'ATTENDANCE_ADMIN_PASSWORD'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
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
