/**
 * Provisioning with a one-time code (docs/operations.md): the admin gets a short-lived code, the gateway's
 * `provision` command exchanges it over HTTP and writes its config file (mode 0600), and the
 * gateway can then connect to the broker with what was written. A code works once and expires.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectGateway, connectOutcome, setupCourse, startBrokerHarness, type BrokerHarness } from './broker-harness.js';
import { ProvisionError, provision } from '../../gateway/provision.js';
import { loadConfig } from '../../gateway/config.js';

let b: BrokerHarness;
let server: http.Server;
let cloudUrl: string;
let dir: string;

beforeEach(async () => {
  b = await startBrokerHarness();
  server = http.createServer(b.h.app.koa.callback());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  cloudUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'att-prov-'));
});
afterEach(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await b.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function issueCode(adminAuth: { Authorization: string }, roomId: string) {
  const res = await b.h.http().post(`/api/v1/admin/rooms/${roomId}/gateways`).set(adminAuth).send({});
  expect(res.status).toBe(201);
  expect(res.headers['cache-control']).toBe('no-store');
  expect(res.body.credentials).toBeUndefined();
  return res.body as { gateway_id: string; provisioning_code: string; expires_at: string };
}

describe('provisioning code', () => {
  it('is exchanged once for a 0600 config file the daemon loads and the broker accepts', async () => {
    const f = await setupCourse(b.h);
    const issued = await issueCode(f.admin.auth, f.roomId);
    expect(issued.provisioning_code).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
    const configPath = path.join(dir, 'etc', 'gateway.json');
    fs.mkdirSync(path.dirname(configPath), { recursive: true });
    fs.writeFileSync(configPath, JSON.stringify({ db_path: '/srv/gw.db', hci_device_id: 1 }));

    const r = await provision({ cloudUrl, code: issued.provisioning_code.toLowerCase(), configPath });
    expect(r).toMatchObject({ gatewayId: issued.gateway_id, roomCode: f.roomCode, configPath });
    expect(fs.statSync(configPath).mode & 0o777).toBe(0o600);
    const config = loadConfig({ path: configPath, env: {} });
    expect(config).toMatchObject({ gatewayId: issued.gateway_id, roomCode: f.roomCode, dbPath: '/srv/gw.db', hciDeviceId: 1 });
    expect(config.roomSecret.equals(f.roomSecret)).toBe(true);
    expect(config.mqtt.url).toBe(`mqtt://127.0.0.1:${b.bridge.broker!.port}`);

    const client = connectGateway(b, { gatewayId: config.gatewayId, password: config.mqtt.password! });
    expect(await connectOutcome(client)).toBe('connected');
    client.end(true);

    await expect(provision({ cloudUrl, code: issued.provisioning_code, configPath: path.join(dir, 'again.json') })).rejects.toThrow(/404 invalid_code/);
    expect(fs.existsSync(path.join(dir, 'again.json'))).toBe(false);
  });

  it('expires after 15 minutes', async () => {
    const f = await setupCourse(b.h);
    const issued = await issueCode(f.admin.auth, f.roomId);
    b.h.clock.advance(15 * 60_000 + 1);
    const res = await b.h.http().post('/api/v1/gateways/provision').send({ code: issued.provisioning_code });
    expect(res.status).toBe(410);
    expect(res.body.error.code).toBe('code_expired');
  });

  it('is void once the room was provisioned again', async () => {
    const f = await setupCourse(b.h);
    const first = await issueCode(f.admin.auth, f.roomId);
    const second = await issueCode(f.admin.auth, f.roomId);
    const res = await b.h.http().post('/api/v1/gateways/provision').send({ code: first.provisioning_code });
    expect(res.status).toBe(410);
    expect(res.body.error.code).toBe('gateway_revoked');
    const ok = await b.h.http().post('/api/v1/gateways/provision').send({ code: second.provisioning_code });
    expect(ok.status).toBe(200);
    expect(ok.body.config.mqtt_password).toEqual(expect.any(String));
  });

  it('refuses an unknown code with a message and writes nothing', async () => {
    const configPath = path.join(dir, 'gateway.json');
    const err = await provision({ cloudUrl, code: 'AAAA-BBBB-CCCC-DDDD', configPath }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProvisionError);
    expect(fs.existsSync(configPath)).toBe(false);
  });

  it('brakes guessing: repeated wrong codes from one address are answered 429', async () => {
    const answers: number[] = [];
    for (let i = 0; i < 6; i++) answers.push((await b.h.http().post('/api/v1/gateways/provision').send({ code: `AAAA-BBBB-CCCC-000${i}` })).status);
    expect(answers).toEqual([404, 404, 404, 404, 404, 429]);
  });
});
