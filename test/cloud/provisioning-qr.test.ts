/**
 * The provisioning answer's command and QR code (docs/api.md, "Rooms, gateways and the fleet"):
 * the QR code, read back by a decoder, is the command with this cloud's address and the one-time
 * code, and the code read from it is the one the exchange accepts. Credentials mode has neither;
 * only admins get either.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupCourse } from '../helpers/fixtures.js';
import { decodeQrPath } from '../helpers/qr-image.js';
import { startBrokerHarness, type BrokerHarness } from './broker-harness.js';

let b: BrokerHarness;

beforeAll(async () => {
  b = await startBrokerHarness();
});
afterAll(async () => {
  await b?.close();
});

describe('provisioning QR code', () => {
  it('encodes the provision command with the address the admin used and a code the exchange accepts once', async () => {
    const f = await setupCourse(b.h, { students: 0 });
    const res = await b.h.http().post(`/api/v1/admin/rooms/${f.roomId}/gateways`).set(f.admin.auth).set('Host', 'attendance.uni.example:8443').send({});
    expect(res.status).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    const { provisioning_code: code, provisioning_command: command, provisioning_qr: qr } = res.body as { provisioning_code: string; provisioning_command: string; provisioning_qr: { text: string; size: number; path: string } };
    expect(command).toBe(`attendance-gateway provision --cloud http://attendance.uni.example:8443 --code ${code}`);
    expect(qr.text).toBe(command);
    expect(qr.size).toBeGreaterThanOrEqual(21 + 8);
    const decoded = decodeQrPath(qr);
    expect(decoded).toBe(command);

    const fromQr = /--code (\S+)$/.exec(decoded)![1];
    const exchanged = await b.h.http().post('/api/v1/gateways/provision').send({ code: fromQr });
    expect(exchanged.status).toBe(200);
    expect(exchanged.body.gateway_id).toBe(res.body.gateway_id);
    const again = await b.h.http().post('/api/v1/gateways/provision').send({ code: fromQr });
    expect(again.status).toBe(404);
  });

  it('is absent from a credentials answer and refused to a teacher', async () => {
    const f = await setupCourse(b.h, { students: 0, code: 'QR2' });
    const creds = await b.h.http().post(`/api/v1/admin/rooms/${f.roomId}/gateways`).set(f.admin.auth).send({ mode: 'credentials' });
    expect(creds.status).toBe(201);
    expect(creds.body.provisioning_qr).toBeUndefined();
    expect(creds.body.provisioning_command).toBeUndefined();
    expect(creds.body.credentials.config.mqtt_password).toEqual(expect.any(String));

    const teacher = await b.h.http().post(`/api/v1/admin/rooms/${f.roomId}/gateways`).set(f.teacher.auth).send({});
    expect(teacher.status).toBe(403);
    expect(JSON.stringify(teacher.body)).not.toMatch(/provision/);
  });
});
