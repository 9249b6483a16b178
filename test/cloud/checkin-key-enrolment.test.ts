/**
 * Enrolling a phone's check-in key with its passkey (docs/api.md, "Proof of proximity"): stored
 * with the device, shown only as its key_id, refused when it is not a P-256 public key or belongs
 * to another student's device (nothing stored then), and moved by a new registration of the same
 * student's phone.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCloudHarness, type CloudHarness } from '../helpers/cloud.js';
import { setupCourse, type CourseFixture, type TestUser } from '../helpers/fixtures.js';
import { SoftwarePhone } from '../fakes/authenticator.js';
import { ORIGIN, registerOptions } from './biometric-fixture.js';
import { keyIdOf } from '../../shared/checkin.js';

let h: CloudHarness;
let f: CourseFixture;

beforeAll(async () => {
  h = await createCloudHarness();
  f = await setupCourse(h, { students: 4, code: 'CKE1' });
});
afterAll(() => h.close());

function p256Spki(): Buffer {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' });
}

async function register(student: TestUser, checkinKey?: string) {
  const options = await registerOptions(h, student);
  const credential = new SoftwarePhone().create(options, ORIGIN);
  return h.http().post('/api/v1/student/biometric/register').set(student.auth).send({ credential, device_name: 'phone', ...(checkinKey === undefined ? {} : { checkin_key: checkinKey }) });
}

const keysOf = (studentId: string) =>
  h.store.db.selectFrom('webauthn_credentials').select(['id', 'status', 'checkin_key', 'checkin_key_id']).where('student_id', '=', studentId).orderBy('created_at').execute();

describe('check-in key enrolment', () => {
  it('stores the key with the device and shows only its key_id', async () => {
    const alice = f.students[0]!;
    const spki = p256Spki();
    const keyId = keyIdOf(spki).toString('hex');
    const res = await register(alice, spki.toString('base64url'));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.device.checkin_key_id).toBe(keyId);
    expect(await keysOf(alice.id)).toEqual([{ id: res.body.device.id, status: 'active', checkin_key: spki.toString('base64url'), checkin_key_id: keyId }]);

    const mine = await h.http().get('/api/v1/student/biometric/devices').set(alice.auth);
    const staff = await h.http().get('/api/v1/teacher/biometric/devices').query({ status: 'active', student_id: alice.id }).set(f.teacher.auth);
    expect(mine.body.items[0].checkin_key_id).toBe(keyId);
    expect(staff.body.items[0].checkin_key_id).toBe(keyId);
    for (const body of [res.body, mine.body, staff.body]) expect(JSON.stringify(body)).not.toContain(spki.toString('base64url').slice(40, 80));
  });

  it('enrols a device without a check-in key as before', async () => {
    const res = await register(f.students[1]!);
    expect(res.status).toBe(201);
    expect(res.body.device.checkin_key_id).toBeNull();
  });

  it('refuses a key that is not a P-256 public key, and stores nothing', async () => {
    const carol = f.students[2]!;
    const ed25519 = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'der' });
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ type: 'spki', format: 'der' });
    for (const bad of ['', 'not base64url!', Buffer.from('hello').toString('base64url'), ed25519.toString('base64url'), p384.toString('base64url'), `${p256Spki().toString('base64url')}==`]) {
      const res = await register(carol, bad);
      expect([res.status, res.body.error.code], bad).toEqual([400, 'checkin_key_invalid']);
    }
    expect(await keysOf(carol.id)).toEqual([]);
  });

  it("refuses another student's key with 409 checkin_key_taken, and stores nothing", async () => {
    const [alice, , , dave] = f.students;
    const [held] = await keysOf(alice!.id);
    const res = await register(dave!, held!.checkin_key!);
    expect([res.status, res.body.error.code]).toEqual([409, 'checkin_key_taken']);
    expect(await keysOf(dave!.id)).toEqual([]);
    expect((await keysOf(alice!.id))[0]!.checkin_key_id).toBe(held!.checkin_key_id);
  });

  it("moves the key to the same student's new registration, off the older credential", async () => {
    const alice = f.students[0]!;
    const [old] = await keysOf(alice.id);
    const res = await register(alice, old!.checkin_key!);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ needs_approval: true, device: { checkin_key_id: old!.checkin_key_id } });
    expect(await keysOf(alice.id)).toEqual([
      { id: old!.id, status: 'active', checkin_key: null, checkin_key_id: null },
      { id: res.body.device.id, status: 'pending', checkin_key: old!.checkin_key, checkin_key_id: old!.checkin_key_id },
    ]);
  });

  it('revoking the device revokes its key: the holder is no longer active', async () => {
    const spki = p256Spki();
    const res = await register(f.students[3]!, spki.toString('base64url'));
    expect(res.status).toBe(201);
    const revoke = await h.http().post(`/api/v1/teacher/biometric/devices/${res.body.device.id}/revoke`).set(f.teacher.auth).send({ reason: 'lost phone' });
    expect(revoke.status).toBe(200);
    expect(await h.store.checkins.keyHolder(keyIdOf(spki).toString('hex'))).toMatchObject({ studentId: f.students[3]!.id, status: 'revoked' });
  });
});
