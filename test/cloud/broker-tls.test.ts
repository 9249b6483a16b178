/**
 * The embedded broker with TLS (MQTT_TLS_CERT_FILE / MQTT_TLS_KEY_FILE): gateways connect over
 * mqtts with the CA in their config, plain MQTT is not served, and the cloud's own loopback
 * client works through TLS too (a provisioned gateway shows up online).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectGateway, connectOutcome, eventually, gatewayRow, provision, setupCourse, startBrokerHarness, type BrokerHarness } from './broker-harness.js';

let b: BrokerHarness;
let dir: string;
let cert: Buffer;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'att-tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
  cert = fs.readFileSync(path.join(dir, 'cert.pem'));
  b = await startBrokerHarness({ tls: { cert, key: fs.readFileSync(path.join(dir, 'key.pem')) } });
});
afterAll(async () => {
  await b?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('embedded broker over TLS', () => {
  it('serves mqtts to a gateway that trusts its certificate, and nothing in clear text', async () => {
    expect(b.bridge.brokerUrl).toMatch(/^mqtts:\/\/127\.0\.0\.1:\d+$/);
    const f = await setupCourse(b.h);
    const g = await provision(b, f);
    const list = await b.h.http().get('/api/v1/admin/gateways').set(f.admin.auth);
    expect(list.status).toBe(200);

    const secure = connectGateway(b, g, { ca: cert });
    expect(await connectOutcome(secure)).toBe('connected');
    await secure.publishAsync(g.topics.status, JSON.stringify({ state: 'online', at: new Date().toISOString(), version: 'tls' }), { qos: 1, retain: true });
    await eventually(async () => (await gatewayRow(b, g.gatewayId)).state === 'online', 5000, 'online through TLS');
    secure.end(true);

    const plain = connect(b.bridge.brokerUrl.replace('mqtts:', 'mqtt:'), { clientId: `gw-${g.gatewayId}`, username: g.gatewayId, password: g.password, reconnectPeriod: 0, connectTimeout: 2000 });
    const outcome = await new Promise<string>((resolve) => {
      plain.once('connect', () => resolve('connected'));
      plain.once('error', () => resolve('error'));
      plain.once('close', () => resolve('closed'));
    });
    plain.end(true);
    expect(outcome).not.toBe('connected');
  });

  it('answers the mqtts URL to provisioned gateways', async () => {
    const f = await setupCourse(b.h, { code: 'TLS2' });
    const res = await b.h.http().post(`/api/v1/admin/rooms/${f.roomId}/gateways`).set(f.admin.auth).send({ mode: 'credentials' });
    expect(res.body.credentials.config.mqtt_url).toMatch(/^mqtts:\/\//);
  });
});
