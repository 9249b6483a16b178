/** The cloud process refuses to start with a message, not a stack trace, on bad config, a bad signing key or a busy port. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'att-cli-'));
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

function runCloud(env: Record<string, string>) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'cloud/cli.ts'], {
    env: { PATH: process.env.PATH ?? '', ATTENDANCE_DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe('attendance-cloud start-up', () => {
  it('refuses a bad variable with exit code 78 and names it', () => {
    const r = runCloud({ PORT: 'eighty', ATTENDANCE_TIMEZONE: 'Nowhere/Land' });
    expect(r.status).toBe(78);
    expect(r.stderr).toContain('refusing to start');
    expect(r.stderr).toContain('PORT');
    expect(r.stderr).toContain('ATTENDANCE_TIMEZONE');
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('refuses a bad signing-key file with exit code 78 and names the variable', () => {
    const file = path.join(dataDir, 'jwt-secret-too-short');
    fs.writeFileSync(file, Buffer.alloc(16, 1).toString('base64'));
    const r = runCloud({ ATTENDANCE_JWT_SECRET_FILE: file, MQTT_DISABLED: 'true' });
    expect(r.status).toBe(78);
    expect(r.stderr).toContain('refusing to start');
    expect(r.stderr).toContain('ATTENDANCE_JWT_SECRET_FILE');
    expect(r.stderr).toContain('at least 32 bytes');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('says which port is taken when the MQTT port is in use', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const busy = (blocker.address() as net.AddressInfo).port;
    const r = runCloud({ PORT: '0', HOST: '127.0.0.1', MQTT_HOST: '127.0.0.1', MQTT_PORT: String(busy) });
    blocker.close();
    expect(r.status).toBe(75);
    expect(r.stderr).toContain(`port ${busy} is already in use`);
    expect(r.stderr).toContain('MQTT_PORT');
  });
});
