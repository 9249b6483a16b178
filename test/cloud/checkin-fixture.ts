/**
 * Shared steps of the proof-of-proximity tests: a student's phone enrolled with a passkey and a
 * P-256 check-in key, and the `checkin.received` data the room's gateway forwards when that phone
 * answers its challenge (signed exactly as shared/checkin.ts defines it).
 */
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { expect } from 'vitest';
import { checkinMessage, keyIdOf, signCheckin } from '../../shared/checkin.js';
import { deriveSessionKey, tokenForWindow } from '../../shared/token.js';
import type { CloudHarness } from '../helpers/cloud.js';
import type { CourseFixture, TestUser } from '../helpers/fixtures.js';
import { SoftwarePhone } from '../fakes/authenticator.js';
import { ORIGIN, registerOptions } from './biometric-fixture.js';

export interface CheckinPhone {
  deviceId: string;
  privateKey: KeyObject;
  keyId: string;
}

export function newCheckinKey(): { privateKey: KeyObject; spki: Buffer } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKey, spki: publicKey.export({ type: 'spki', format: 'der' }) };
}

/** Enrols a new phone for the student with a check-in key of its own. */
export async function enrolCheckinPhone(h: CloudHarness, student: TestUser): Promise<CheckinPhone> {
  const { privateKey, spki } = newCheckinKey();
  const options = await registerOptions(h, student);
  const res = await h.http().post('/api/v1/student/biometric/register').set(student.auth)
    .send({ credential: new SoftwarePhone().create(options, ORIGIN), checkin_key: spki.toString('base64url') });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { deviceId: res.body.device.id, privateKey, keyId: keyIdOf(spki).toString('hex') };
}

export interface CheckinOptions {
  /** Sign with this key instead of the phone's own (a wrong signature). */
  signWith?: KeyObject;
  keyId?: string;
  peer?: string;
  latencyMs?: number;
  rssi?: number | null;
}

/** The data of a `checkin.received` event for the phone's answer in window `w` of the session. */
export function checkinData(f: Pick<CourseFixture, 'roomCode' | 'roomSecret'>, sessionId: string, w: number, phone: CheckinPhone, o: CheckinOptions = {}) {
  const nonce = randomBytes(16);
  const token = tokenForWindow(deriveSessionKey(f.roomSecret, sessionId), w);
  const signature = signCheckin(o.signWith ?? phone.privateKey, checkinMessage(f.roomCode, w, nonce, token));
  return {
    session_id: sessionId, w, key_id: o.keyId ?? phone.keyId, nonce: nonce.toString('hex'), signature: signature.toString('hex'),
    rssi: o.rssi === undefined ? -60 : o.rssi, peer: o.peer ?? 'aa:bb:cc:dd:ee:01', latency_ms: o.latencyMs ?? 180,
  };
}
