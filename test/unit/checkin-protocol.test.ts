/**
 * The GATT check-in protocol (shared/checkin.ts, shared/checkin-phone.ts, shared/mqtt/messages.ts
 * `checkin.received`): the golden vectors of docs/protocol.md §Proof of proximity, the codecs'
 * round trips and refusals, the signature checks, the check-in key a phone registers and the
 * reference phone's answer to a challenge.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { ECDH, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import {
  ATTENDANCE_SERVICE_UUID, CHALLENGE_CHAR_UUID, CHALLENGE_LENGTH, CHECKIN_CHAR_UUID, CHECKIN_LENGTH, RECEIPT_CHAR_UUID, RECEIPT_LENGTH,
  RECEIPT_STATUS, checkinMessage, decodeChallenge, decodeCheckin, decodeReceipt, encodeChallenge, encodeCheckin, encodeReceipt,
  keyIdOf, parseCheckinKey, signCheckin, verifyCheckin, type ReceiptStatus,
} from '../../shared/checkin.js';
import { answerChallenge, checkinKeyOf } from '../../shared/checkin-phone.js';
import { decodeFrame, encodeFrame } from '../../shared/frame.js';
import { deriveSessionKey, tokenForWindow } from '../../shared/token.js';
import { parseEvent } from '../../shared/mqtt/messages.js';
import { uuidv7 } from '../../shared/ids.js';

// Golden vectors — docs/protocol.md §Proof of proximity, chained to §Golden vectors.
const SECRET = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');
const SESSION = '0192f3a0-7c00-7000-8000-000000000001';
const ROOM = 0x00012345;
const W = 5890752;
const TOKEN = '06c9a0994e042a82';
const NONCE = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
const JWK = {
  kty: 'EC', crv: 'P-256',
  x: '__op38WMlxnRtiCKFjObWZe78G0qEjH3gQ6iipUp_5A',
  y: 'y6RohYEUGDwAx4vL0v4_MY3RCqPymCaQ1kQDbc_bBoM',
  d: 'CjMK8-6FfS5k4zjaJDK2DdF-2FuRcqgY9En-W5TFgP4',
};
const PKCS8 =
  '308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b02010104200a330af3ee857d2e64e338da2432b60dd17ed85b9172a818f449fe5b' +
  '94c580fea14403420004fffa29dfc58c9719d1b6208a16339b5997bbf06d2a1231f7810ea28a9529ff90cba468858114183c00c78bcbd2fe3f318dd10aa3f2982690d644036dcfdb0683';
const CHECKIN_KEY = 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE__op38WMlxnRtiCKFjObWZe78G0qEjH3gQ6iipUp_5DLpGiFgRQYPADHi8vS_j8xjdEKo_KYJpDWRANtz9sGgw';
const KEY_ID = 'e8dcb4b6b6ef2ab255e07bae22c19cd5';
const CHALLENGE = '01000123450059e2c000112233445566778899aabbccddeeff';
const MESSAGE = '6174742f76312f636865636b696e7c000123450059e2c000112233445566778899aabbccddeeff06c9a0994e042a82';
const SIGNATURE =
  '0bddd573a5ddf2aba0ba97ec12264f331f30f5b14e10928394c4351bbbf0db14346c283014ab01f3a6e31934925b1692d82d959676b1d40bf200dd6975bd5b20';
const CHECKIN = `01${KEY_ID}${NONCE.toString('hex')}${SIGNATURE}`;
const RECEIPTS: Array<[ReceiptStatus, string]> = [
  ['queued', '01000059e2c0'],
  ['duplicate', '01010059e2c0'],
  ['nonce_unknown', '01020059e2c0'],
  ['malformed', '01030059e2c0'],
  ['no_session', '01040059e2c0'],
  ['unknown_key', '01050059e2c0'],
  ['bad_signature', '01060059e2c0'],
];

const goldenPrivate = createPrivateKey({ key: JWK, format: 'jwk' });
const goldenPublic = createPublicKey(goldenPrivate);
const message = Buffer.from(MESSAGE, 'hex');
const signature = Buffer.from(SIGNATURE, 'hex');

function flipBit(b: Buffer, index: number): Buffer {
  const out = Buffer.from(b);
  out[index >> 3]! ^= 1 << (index & 7);
  return out;
}

describe('golden vectors', () => {
  it('gives the same key as JWK and as PKCS#8, and its SPKI and key_id', () => {
    const fromPkcs8 = createPrivateKey({ key: Buffer.from(PKCS8, 'hex'), format: 'der', type: 'pkcs8' });
    expect(fromPkcs8.equals(goldenPrivate)).toBe(true);
    const spki = goldenPublic.export({ type: 'spki', format: 'der' });
    expect(spki.toString('base64url')).toBe(CHECKIN_KEY);
    expect(keyIdOf(spki).toString('hex')).toBe(KEY_ID);
    const parsed = parseCheckinKey(CHECKIN_KEY);
    expect(parsed.ok && parsed.value.keyId.toString('hex')).toBe(KEY_ID);
    expect(parsed.ok && parsed.value.spki.length).toBe(91);
  });
  it('chains to the token of the golden session', () => {
    expect(tokenForWindow(deriveSessionKey(SECRET, SESSION), W).toString('hex')).toBe(TOKEN);
  });
  it('encodes the challenge, the message and the check-in', () => {
    expect(encodeChallenge({ roomCode: ROOM, w: W, nonce: NONCE }).toString('hex')).toBe(CHALLENGE);
    expect(checkinMessage(ROOM, W, NONCE, Buffer.from(TOKEN, 'hex')).toString('hex')).toBe(MESSAGE);
    expect(message.subarray(0, 15).toString('ascii')).toBe('att/v1/checkin|');
    expect(encodeCheckin({ keyId: Buffer.from(KEY_ID, 'hex'), nonce: NONCE, signature }).toString('hex')).toBe(CHECKIN);
  });
  it('accepts the documented signature and a fresh one (ECDSA is randomized)', () => {
    expect(verifyCheckin(goldenPublic, message, signature)).toBe(true);
    const fresh = signCheckin(goldenPrivate, message);
    expect(fresh.length).toBe(64);
    expect(verifyCheckin(goldenPublic, message, fresh)).toBe(true);
    const parsed = parseCheckinKey(CHECKIN_KEY);
    expect(parsed.ok && verifyCheckin(parsed.value.key, message, fresh)).toBe(true);
  });
  it.each(RECEIPTS)('receipt %s is %s', (status, hex) => {
    expect(encodeReceipt({ status, w: W }).toString('hex')).toBe(hex);
    expect(decodeReceipt(Buffer.from(hex, 'hex'))).toEqual({ ok: true, value: { status, w: W } });
  });
  it('are the ones docs/protocol.md publishes', () => {
    const doc = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');
    for (const v of [JWK.x, JWK.y, JWK.d, PKCS8, CHECKIN_KEY, KEY_ID, NONCE.toString('hex'), CHALLENGE, MESSAGE, SIGNATURE, CHECKIN, ...RECEIPTS.map(([, hex]) => hex)]) {
      expect(doc).toContain(v);
    }
  });
  it('names the service and its three characteristics in lower case', () => {
    expect([ATTENDANCE_SERVICE_UUID, CHALLENGE_CHAR_UUID, CHECKIN_CHAR_UUID, RECEIPT_CHAR_UUID]).toEqual([
      '11122f57-90b2-4bf8-acef-b4a4d9da96be', '11122f58-90b2-4bf8-acef-b4a4d9da96be',
      '11122f59-90b2-4bf8-acef-b4a4d9da96be', '11122f5a-90b2-4bf8-acef-b4a4d9da96be',
    ]);
    expect(Object.keys(RECEIPT_STATUS)).toEqual(RECEIPTS.map(([s]) => s));
  });
});

describe('codecs', () => {
  const u32 = fc.nat({ max: 0xffffffff });
  const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n }).map((b) => Buffer.from(b));
  const statusArb = fc.constantFrom(...RECEIPTS.map(([s]) => s));

  it('round-trip every valid challenge, check-in and receipt', () => {
    fc.assert(fc.property(u32, u32, bytes(16), (roomCode, w, nonce) => {
      expect(decodeChallenge(encodeChallenge({ roomCode, w, nonce }))).toEqual({ ok: true, value: { roomCode, w, nonce } });
    }));
    fc.assert(fc.property(bytes(16), bytes(16), bytes(64), (keyId, nonce, sig) => {
      expect(decodeCheckin(encodeCheckin({ keyId, nonce, signature: sig }))).toEqual({ ok: true, value: { keyId, nonce, signature: sig } });
    }));
    fc.assert(fc.property(statusArb, u32, (status, w) => {
      expect(decodeReceipt(encodeReceipt({ status, w }))).toEqual({ ok: true, value: { status, w } });
    }));
  });

  it('decoded values do not alias the input', () => {
    const input = Buffer.from(CHALLENGE, 'hex');
    const decoded = decodeChallenge(input);
    input.fill(0);
    expect(decoded.ok && decoded.value.nonce.equals(NONCE)).toBe(true);
  });

  const cases: Array<[string, (b: Uint8Array) => { ok: boolean }, string, number]> = [
    ['challenge', decodeChallenge, CHALLENGE, CHALLENGE_LENGTH],
    ['check-in', decodeCheckin, CHECKIN, CHECKIN_LENGTH],
    ['receipt', decodeReceipt, RECEIPTS[0]![1], RECEIPT_LENGTH],
  ];
  it.each(cases)('%s: refuses truncated, oversized, empty and wrong-version input with a reason', (what, decode, hex, length) => {
    const good = Buffer.from(hex, 'hex');
    expect(decode(good).ok).toBe(true);
    expect(decode(good.subarray(0, length - 1))).toEqual({ ok: false, reason: `${what} must be ${length} bytes, got ${length - 1}` });
    expect(decode(Buffer.concat([good, Buffer.of(0)]))).toEqual({ ok: false, reason: `${what} must be ${length} bytes, got ${length + 1}` });
    expect(decode(Buffer.alloc(0))).toEqual({ ok: false, reason: `${what} must be ${length} bytes, got 0` });
    for (const version of [0x00, 0x02, 0xff]) {
      const bad = Buffer.from(good);
      bad[0] = version;
      expect(decode(bad)).toEqual({ ok: false, reason: `unsupported ${what} version 0x${version.toString(16).padStart(2, '0')}` });
    }
  });

  it('refuses a receipt with a status it does not know', () => {
    for (const status of [7, 0x7f, 0xff]) {
      expect(decodeReceipt(Buffer.from([1, status, 0, 0, 0, 1]))).toEqual({ ok: false, reason: `unknown receipt status ${status}` });
    }
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 120 }), (b) => {
      for (const decode of [decodeChallenge, decodeCheckin, decodeReceipt]) expect(typeof decode(b).ok).toBe('boolean');
    }));
  });

  it('encoders refuse values out of range', () => {
    const nonce = Buffer.alloc(16);
    expect(() => encodeChallenge({ roomCode: -1, w: 0, nonce })).toThrow(/room_code must be a uint32/);
    expect(() => encodeChallenge({ roomCode: 2 ** 32, w: 0, nonce })).toThrow(/room_code/);
    expect(() => encodeChallenge({ roomCode: 1, w: 1.5, nonce })).toThrow(/w must be a uint32/);
    expect(() => encodeChallenge({ roomCode: 1, w: 1, nonce: Buffer.alloc(15) })).toThrow(/nonce must be 16 bytes, got 15/);
    expect(() => encodeCheckin({ keyId: Buffer.alloc(17), nonce, signature: Buffer.alloc(64) })).toThrow(/key_id must be 16 bytes/);
    expect(() => encodeCheckin({ keyId: Buffer.alloc(16), nonce: Buffer.alloc(0), signature: Buffer.alloc(64) })).toThrow(/nonce/);
    expect(() => encodeCheckin({ keyId: Buffer.alloc(16), nonce, signature: Buffer.alloc(72) })).toThrow(/signature must be 64 bytes/);
    expect(() => encodeReceipt({ status: 'accepted' as ReceiptStatus, w: 1 })).toThrow(/unknown receipt status/);
    expect(() => encodeReceipt({ status: 'queued', w: -1 })).toThrow(/w must be a uint32/);
    expect(() => checkinMessage(ROOM, W, nonce, Buffer.alloc(7))).toThrow(/token must be 8 bytes/);
    expect(() => checkinMessage(ROOM, 2 ** 32, nonce, Buffer.alloc(8))).toThrow(/w must be a uint32/);
  });
});

describe('signatures', () => {
  const token = Buffer.from(TOKEN, 'hex');

  it('refuse a signature by another key', () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    expect(verifyCheckin(goldenPublic, message, signCheckin(other.privateKey, message))).toBe(false);
    expect(verifyCheckin(other.publicKey, message, signature)).toBe(false);
  });
  it('refuse a signature over another room, window, nonce or token', () => {
    const otherNonce = flipBit(NONCE, 0);
    const otherToken = tokenForWindow(deriveSessionKey(SECRET, SESSION), W + 1);
    for (const other of [
      checkinMessage(ROOM + 1, W, NONCE, token),
      checkinMessage(ROOM, W + 1, NONCE, token),
      checkinMessage(ROOM, W, otherNonce, token),
      checkinMessage(ROOM, W, NONCE, otherToken),
    ]) {
      expect(verifyCheckin(goldenPublic, other, signature)).toBe(false);
    }
  });
  it('refuse any flipped bit of the signature or the message', () => {
    for (let i = 0; i < signature.length * 8; i += 7) expect(verifyCheckin(goldenPublic, message, flipBit(signature, i))).toBe(false);
    for (let i = 0; i < message.length * 8; i += 5) expect(verifyCheckin(goldenPublic, flipBit(message, i), signature)).toBe(false);
  });
  it('answer false, never throw, for a bad signature or key', () => {
    expect(verifyCheckin(goldenPublic, message, signature.subarray(0, 63))).toBe(false);
    expect(verifyCheckin(goldenPublic, message, Buffer.alloc(64))).toBe(false);
    expect(verifyCheckin(goldenPublic, message, Buffer.alloc(64, 0xff))).toBe(false);
    expect(verifyCheckin(goldenPublic, message, Buffer.alloc(0))).toBe(false);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(verifyCheckin(rsa.publicKey, message, signature)).toBe(false);
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
    expect(verifyCheckin(p384.publicKey, message, signature)).toBe(false);
  });
  it('sign only with a P-256 private key', () => {
    expect(() => signCheckin(goldenPublic, message)).toThrow(/P-256 private key/);
    expect(() => signCheckin(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey, message)).toThrow(/P-256 private key/);
  });
});

describe('the check-in key a phone registers', () => {
  const spkiOf = (key: ReturnType<typeof createPublicKey>) => key.export({ type: 'spki', format: 'der' }).toString('base64url');
  const refusal = (input: string) => {
    const r = parseCheckinKey(input);
    return r.ok ? 'accepted' : r.reason;
  };

  it('accepts any P-256 public key in canonical SPKI and gives its key_id', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const parsed = parseCheckinKey(spkiOf(publicKey));
    expect(parsed.ok && parsed.value.key.equals(publicKey)).toBe(true);
    expect(parsed.ok && parsed.value.keyId.equals(keyIdOf(publicKey.export({ type: 'spki', format: 'der' })))).toBe(true);
  });
  it('refuses RSA, Ed25519 and other curves', () => {
    expect(refusal(spkiOf(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey))).toMatch(/EC P-256/);
    expect(refusal(spkiOf(generateKeyPairSync('ed25519').publicKey))).toMatch(/EC P-256/);
    expect(refusal(spkiOf(generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey))).toMatch(/EC P-256/);
    expect(refusal(spkiOf(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey))).toMatch(/EC P-256/);
  });
  it('refuses a private key, a compressed point, garbage and over-long input', () => {
    expect(refusal(Buffer.from(PKCS8, 'hex').toString('base64url'))).toMatch(/not a DER SPKI public key/);
    const compressed = ECDH.convertKey(rawPoint(), 'prime256v1', undefined, undefined, 'compressed') as Buffer;
    const compressedSpki = Buffer.concat([Buffer.from('3039301306072a8648ce3d020106082a8648ce3d030107032200', 'hex'), compressed]);
    expect(refusal(compressedSpki.toString('base64url'))).toMatch(/canonical SPKI/);
    expect(refusal('')).toMatch(/non-empty/);
    expect(refusal('not a key!')).toMatch(/base64url/);
    expect(refusal(`${CHECKIN_KEY}==`)).toMatch(/base64url/);
    expect(refusal(CHECKIN_KEY.replace(/_/g, '/'))).toMatch(/base64url/);
    expect(refusal(randomBytes(91).toString('base64url'))).toMatch(/not a DER SPKI/);
    expect(refusal('A'.repeat(257))).toMatch(/at most 256/);
    // node:crypto parses a key followed by a stray byte; the length check refuses it.
    expect(refusal(Buffer.concat([Buffer.from(CHECKIN_KEY, 'base64url'), Buffer.of(0)]).toString('base64url'))).toMatch(/canonical SPKI/);
    // A base64url string whose last character carries bits the decoder drops is not canonical.
    expect(refusal(`${CHECKIN_KEY.slice(0, -1)}h`)).toMatch(/canonical base64url/);
    expect(refusal(42 as unknown as string)).toMatch(/non-empty string/);
  });
});

/** The golden key's public point as 65 bytes 04|x|y. */
function rawPoint(): Buffer {
  const jwk = goldenPublic.export({ format: 'jwk' });
  return Buffer.concat([Buffer.of(4), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
}

describe('checkin.received event', () => {
  const data = {
    session_id: SESSION, w: W, key_id: KEY_ID, nonce: NONCE.toString('hex'), signature: SIGNATURE,
    rssi: -61, peer: 'aa:bb:cc:dd:ee:ff', latency_ms: 180,
  };
  const parse = (d: Record<string, unknown>) => parseEvent(JSON.stringify({ id: uuidv7(), type: 'checkin.received', at: new Date().toISOString(), data: d }));

  it('accepts what a gateway sends, also without an RSSI', () => {
    const ok = parse(data);
    expect(ok.ok && ok.value.data).toEqual(data);
    expect(parse({ ...data, rssi: null }).ok).toBe(true);
    expect(parse({ ...data, rssi: -127, latency_ms: 0, w: 0 }).ok).toBe(true);
  });
  it.each([
    ['session_id', 'not-a-uuid'], ['w', -1], ['w', 1.5], ['w', 2 ** 32],
    ['key_id', KEY_ID.slice(2)], ['key_id', KEY_ID.toUpperCase()], ['nonce', `${NONCE.toString('hex')}00`],
    ['signature', SIGNATURE.replace('0b', 'zz')], ['rssi', -128], ['rssi', 21], ['rssi', -60.5], ['rssi', undefined],
    ['peer', 'aa:bb:cc:dd:ee'], ['peer', 'AA-BB-CC-DD-EE-FF'], ['latency_ms', -1], ['latency_ms', '10'],
  ])('refuses %s = %j as invalid data', (field, value) => {
    const r = parse({ ...data, [field]: value });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.code).toBe('invalid_data');
  });
});

describe('the reference phone', () => {
  const advertised = decodeFrame(Buffer.from('01000123450059e2c006c9a0994e042a82', 'hex')); // golden frame, docs/protocol.md
  const keyId = Buffer.from(KEY_ID, 'hex');
  const challenge = Buffer.from(CHALLENGE, 'hex');

  it('registers the golden check-in key and key_id', () => {
    expect(checkinKeyOf(goldenPrivate)).toEqual({ checkinKey: CHECKIN_KEY, keyId });
  });
  it('answers the golden challenge with a check-in the cloud verifies against the registered key', () => {
    const answer = answerChallenge({ challenge, advertised, privateKey: goldenPrivate, keyId });
    expect(answer.ok).toBe(true);
    const written = decodeCheckin(answer.ok ? answer.value : Buffer.alloc(0));
    expect(written.ok).toBe(true);
    if (!written.ok) return;
    expect(written.value.keyId.toString('hex')).toBe(KEY_ID);
    expect(written.value.nonce.equals(NONCE)).toBe(true);
    // What the cloud does: the key registered under this key_id, the message rebuilt from the room's token(w).
    const registered = parseCheckinKey(CHECKIN_KEY);
    expect(registered.ok && registered.value.keyId.equals(written.value.keyId)).toBe(true);
    const expected = checkinMessage(ROOM, W, written.value.nonce, tokenForWindow(deriveSessionKey(SECRET, SESSION), W));
    expect(registered.ok && verifyCheckin(registered.value.key, expected, written.value.signature)).toBe(true);
    expect(answer.ok && answer.value.subarray(0, 33).toString('hex')).toBe(CHECKIN.slice(0, 66));
  });
  it('signs nothing for a challenge of another room or window than the advertisement it heard', () => {
    const otherRoom = encodeChallenge({ roomCode: ROOM + 1, w: W, nonce: NONCE });
    expect(answerChallenge({ challenge: otherRoom, advertised, privateKey: goldenPrivate, keyId })).toEqual({
      ok: false, reason: `challenge is for room ${ROOM + 1}, the advertisement for room ${ROOM}`,
    });
    const nextWindow = decodeFrame(encodeFrame({ roomCode: ROOM, w: W + 1, token: tokenForWindow(deriveSessionKey(SECRET, SESSION), W + 1) }));
    expect(answerChallenge({ challenge, advertised: nextWindow, privateKey: goldenPrivate, keyId })).toEqual({
      ok: false, reason: `challenge is for window ${W}, the advertisement for window ${W + 1}`,
    });
  });
  it('refuses a malformed challenge, a bad key_id or a key that is not a P-256 private key, without throwing', () => {
    expect(answerChallenge({ challenge: challenge.subarray(1), advertised, privateKey: goldenPrivate, keyId })).toEqual({
      ok: false, reason: 'challenge must be 25 bytes, got 24',
    });
    expect(answerChallenge({ challenge, advertised, privateKey: goldenPrivate, keyId: keyId.subarray(1) })).toEqual({
      ok: false, reason: 'key_id must be 16 bytes, got 15',
    });
    expect(answerChallenge({ challenge, advertised, privateKey: goldenPublic, keyId })).toEqual({
      ok: false, reason: 'check-in key must be an EC P-256 private key',
    });
  });
});
