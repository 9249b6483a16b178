/**
 * Proof of proximity over GATT — docs/protocol.md §Proof of proximity (contract).
 *
 * A phone connects to the room's gateway, reads a fresh challenge, signs it together with the
 * token it hears with its device-bound check-in key and writes the answer back; the gateway
 * forwards it (`checkin.received`) and the cloud verifies it. This module holds the byte layouts
 * of the three characteristics, the signed message and the key handling; pure functions, no I/O.
 *
 *   challenge = 0x01 | room_code(4, BE) | w(4, BE) | nonce(16)                       25 bytes
 *   checkin   = 0x01 | key_id(16) | nonce(16) | signature(64, P-256 raw r|s)        97 bytes
 *   receipt   = 0x01 | status(1) | w(4, BE)                                           6 bytes
 *   message   = "att/v1/checkin|" | room_code(4, BE) | w(4, BE) | nonce(16) | token(w)(8)
 *   key_id    = SHA-256(SPKI DER)[0..16]
 *
 * Decoders never throw: they answer `{ok: false, reason}`. Encoders throw RangeError on values
 * out of range, which is a bug of the caller.
 */
import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { TOKEN_BYTES } from './token.js';

export { ATTENDANCE_SERVICE_UUID } from './advertisement.js';
export const CHALLENGE_CHAR_UUID = '11122f58-90b2-4bf8-acef-b4a4d9da96be';
export const CHECKIN_CHAR_UUID = '11122f59-90b2-4bf8-acef-b4a4d9da96be';
export const RECEIPT_CHAR_UUID = '11122f5a-90b2-4bf8-acef-b4a4d9da96be';

export const CHECKIN_VERSION = 0x01;
export const CHALLENGE_LENGTH = 25;
export const CHECKIN_LENGTH = 97;
export const RECEIPT_LENGTH = 6;
export const NONCE_LENGTH = 16;
export const KEY_ID_LENGTH = 16;
export const SIGNATURE_LENGTH = 64;
/** A challenge's nonce is valid this long after it was read, and only once. */
export const NONCE_TTL_MS = 10_000;

/**
 * `unknown_key` and `bad_signature` come only from a gateway that holds the session's check-in keys
 * (docs/protocol.md, "The session's check-in keys"); without them it queues and the cloud decides.
 */
export const RECEIPT_STATUS = { queued: 0, duplicate: 1, nonce_unknown: 2, malformed: 3, no_session: 4, unknown_key: 5, bad_signature: 6 } as const;
export type ReceiptStatus = keyof typeof RECEIPT_STATUS;
const STATUS_OF_BYTE = new Map<number, ReceiptStatus>(
  Object.entries(RECEIPT_STATUS).map(([name, byte]) => [byte, name as ReceiptStatus]),
);

export interface Challenge { roomCode: number; w: number; nonce: Buffer }
export interface CheckinWrite { keyId: Buffer; nonce: Buffer; signature: Buffer }
export interface Receipt { status: ReceiptStatus; w: number }
export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: string };

const MESSAGE_PREFIX = Buffer.from('att/v1/checkin|', 'ascii');
/** Base64url of a P-256 SPKI is 122 characters; anything much longer is refused before parsing. */
const MAX_CHECKIN_KEY_CHARS = 256;
const BASE64URL_RE = /^[A-Za-z0-9_-]+$/;
/** DER of SPKI{id-ecPublicKey, prime256v1} and the BIT STRING header, up to the point's 0x04 (uncompressed) byte. */
const P256_SPKI_PREFIX = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d03010703420004', 'hex');
const P256_SPKI_LENGTH = P256_SPKI_PREFIX.length + 64;

function assertUint32(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`${name} must be a uint32, got ${value}`);
}

function assertBytes(name: string, value: Uint8Array, length: number): void {
  if (value.length !== length) throw new RangeError(`${name} must be ${length} bytes, got ${value.length}`);
}

/** Length and version check shared by the three decoders; null when both hold. */
function framingError(what: string, bytes: Uint8Array, length: number): string | null {
  if (bytes.length !== length) return `${what} must be ${length} bytes, got ${bytes.length}`;
  if (bytes[0] !== CHECKIN_VERSION) return `unsupported ${what} version 0x${bytes[0]!.toString(16).padStart(2, '0')}`;
  return null;
}

export function encodeChallenge(c: Challenge): Buffer {
  assertUint32('room_code', c.roomCode);
  assertUint32('w', c.w);
  assertBytes('nonce', c.nonce, NONCE_LENGTH);
  const out = Buffer.alloc(CHALLENGE_LENGTH);
  out[0] = CHECKIN_VERSION;
  out.writeUInt32BE(c.roomCode, 1);
  out.writeUInt32BE(c.w, 5);
  out.set(c.nonce, 9);
  return out;
}

export function decodeChallenge(b: Uint8Array): Decoded<Challenge> {
  const error = framingError('challenge', b, CHALLENGE_LENGTH);
  if (error) return { ok: false, reason: error };
  const buf = Buffer.from(b);
  return { ok: true, value: { roomCode: buf.readUInt32BE(1), w: buf.readUInt32BE(5), nonce: buf.subarray(9, 25) } };
}

export function encodeCheckin(c: CheckinWrite): Buffer {
  assertBytes('key_id', c.keyId, KEY_ID_LENGTH);
  assertBytes('nonce', c.nonce, NONCE_LENGTH);
  assertBytes('signature', c.signature, SIGNATURE_LENGTH);
  return Buffer.concat([Buffer.of(CHECKIN_VERSION), c.keyId, c.nonce, c.signature]);
}

export function decodeCheckin(b: Uint8Array): Decoded<CheckinWrite> {
  const error = framingError('check-in', b, CHECKIN_LENGTH);
  if (error) return { ok: false, reason: error };
  const buf = Buffer.from(b);
  return { ok: true, value: { keyId: buf.subarray(1, 17), nonce: buf.subarray(17, 33), signature: buf.subarray(33, 97) } };
}

export function encodeReceipt(r: Receipt): Buffer {
  if (!Object.hasOwn(RECEIPT_STATUS, r.status)) throw new RangeError(`unknown receipt status ${String(r.status)}`);
  assertUint32('w', r.w);
  const out = Buffer.alloc(RECEIPT_LENGTH);
  out[0] = CHECKIN_VERSION;
  out[1] = RECEIPT_STATUS[r.status];
  out.writeUInt32BE(r.w, 2);
  return out;
}

export function decodeReceipt(b: Uint8Array): Decoded<Receipt> {
  const error = framingError('receipt', b, RECEIPT_LENGTH);
  if (error) return { ok: false, reason: error };
  const status = STATUS_OF_BYTE.get(b[1]!);
  if (!status) return { ok: false, reason: `unknown receipt status ${b[1]}` };
  return { ok: true, value: { status, w: Buffer.from(b).readUInt32BE(2) } };
}

/** The 47 bytes the phone signs: binds the answer to this room, this window, this connection's nonce and the token on air. */
export function checkinMessage(roomCode: number, w: number, nonce: Buffer, token: Buffer): Buffer {
  assertUint32('room_code', roomCode);
  assertUint32('w', w);
  assertBytes('nonce', nonce, NONCE_LENGTH);
  assertBytes('token', token, TOKEN_BYTES);
  const fields = Buffer.alloc(8);
  fields.writeUInt32BE(roomCode, 0);
  fields.writeUInt32BE(w, 4);
  return Buffer.concat([MESSAGE_PREFIX, fields, nonce, token]);
}

export function keyIdOf(spki: Buffer): Buffer {
  return createHash('sha256').update(spki).digest().subarray(0, KEY_ID_LENGTH);
}

function isP256(key: KeyObject): boolean {
  return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
}

/**
 * The `checkin_key` a phone registers: base64url (no padding) of the DER SPKI of a P-256 public
 * key with the named curve and the uncompressed point (91 bytes, what
 * `KeyObject.export({type: 'spki', format: 'der'})` writes for a generated key), so that a key has
 * one encoding and one key_id everywhere.
 */
export function parseCheckinKey(base64urlSpki: string): Decoded<{ spki: Buffer; keyId: Buffer; key: KeyObject }> {
  if (typeof base64urlSpki !== 'string' || base64urlSpki.length === 0) return { ok: false, reason: 'checkin_key must be a non-empty string' };
  if (base64urlSpki.length > MAX_CHECKIN_KEY_CHARS) return { ok: false, reason: `checkin_key must be at most ${MAX_CHECKIN_KEY_CHARS} characters` };
  if (!BASE64URL_RE.test(base64urlSpki)) return { ok: false, reason: 'checkin_key must be base64url without padding' };
  const spki = Buffer.from(base64urlSpki, 'base64url');
  if (spki.toString('base64url') !== base64urlSpki) return { ok: false, reason: 'checkin_key is not canonical base64url' };
  let key: KeyObject;
  try {
    key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  } catch {
    return { ok: false, reason: 'checkin_key is not a DER SPKI public key' };
  }
  if (!isP256(key)) return { ok: false, reason: 'checkin_key must be an EC P-256 public key' };
  if (spki.length !== P256_SPKI_LENGTH || !spki.subarray(0, P256_SPKI_PREFIX.length).equals(P256_SPKI_PREFIX)) {
    return { ok: false, reason: 'checkin_key must be the canonical SPKI encoding (named curve, uncompressed point)' };
  }
  return { ok: true, value: { spki, keyId: keyIdOf(spki), key } };
}

/** ECDSA P-256 with SHA-256, the 64-byte raw r|s form. Throws on a key that is not a P-256 private key. */
export function signCheckin(privateKey: KeyObject, message: Buffer): Buffer {
  if (privateKey.type !== 'private' || !isP256(privateKey)) throw new RangeError('check-in key must be an EC P-256 private key');
  return sign('sha256', message, { key: privateKey, dsaEncoding: 'ieee-p1363' });
}

/** True only for a valid signature by this P-256 key; false, never an exception, for anything else. */
export function verifyCheckin(publicKey: KeyObject, message: Buffer, signature: Buffer): boolean {
  try {
    if (!isP256(publicKey) || signature.length !== SIGNATURE_LENGTH) return false;
    return verify('sha256', message, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    return false;
  }
}
