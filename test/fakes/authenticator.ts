/**
 * A software phone: a WebAuthn client (the browser / OS passkey API) and a platform authenticator
 * in one object, faithful enough that @simplewebauthn/server cannot tell it from a real one.
 *
 * - Keys are real P-256 key pairs (node:crypto); credential public keys are COSE_Key EC2 maps
 *   (WebAuthn L2 §6.5.1.1) in CTAP2 canonical CBOR, encoded by the small encoder below.
 * - Authenticator data is rpIdHash ‖ flags ‖ signCount ‖ [attested credential data] (L2 §6.1,
 *   §6.5.1), with UP (bit 0), UV (bit 2), BE (bit 3), BS (bit 4) and AT (bit 6).
 * - Client data JSON serialises type, challenge, origin, crossOrigin in that order (L2 §5.8.1.2).
 * - Registration uses the "none" attestation format (L2 §8.7); assertion signatures are ES256
 *   over authenticatorData ‖ SHA-256(clientDataJSON), DER-encoded as L2 §6.5.5 requires.
 * - The client enforces the RP ID / origin relation (L2 §5.1.3, §5.1.4), excludeCredentials
 *   (§6.3.2 step 3) and allowCredentials (§6.3.3), like a real browser or OS.
 *
 * `tamper` options play a broken or malicious client, so the server's own checks can be tested.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import type { AuthenticationResponseJSON, PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON, RegistrationResponseJSON } from '@simplewebauthn/server';

// ---- CBOR (RFC 8949), just the subset WebAuthn needs: ints, byte/text strings, maps ----------

type Cbor = number | string | Uint8Array | Map<Cbor, Cbor>;

function cborHead(major: number, n: number): Buffer {
  if (n < 24) return Buffer.from([(major << 5) | n]);
  if (n < 0x100) return Buffer.from([(major << 5) | 24, n]);
  if (n < 0x10000) return Buffer.from([(major << 5) | 25, n >> 8, n & 0xff]);
  const b = Buffer.alloc(5);
  b[0] = (major << 5) | 26;
  b.writeUInt32BE(n, 1);
  return b;
}

export function cbor(value: Cbor): Buffer {
  if (typeof value === 'number') return value >= 0 ? cborHead(0, value) : cborHead(1, -1 - value);
  if (typeof value === 'string') {
    const b = Buffer.from(value, 'utf8');
    return Buffer.concat([cborHead(3, b.length), b]);
  }
  if (value instanceof Uint8Array) return Buffer.concat([cborHead(2, value.length), value]);
  // CTAP2 canonical form: map keys sorted by their encoded bytes, shorter first.
  const entries = [...value.entries()].map(([k, v]) => [cbor(k), cbor(v)] as const);
  entries.sort(([a], [b]) => a.length - b.length || Buffer.compare(a, b));
  return Buffer.concat([cborHead(5, entries.length), ...entries.flatMap(([k, v]) => [k, v])]);
}

// ---- the authenticator ------------------------------------------------------------------------

const FLAG = { UP: 0x01, UV: 0x04, BE: 0x08, BS: 0x10, AT: 0x40 } as const;
const ES256 = -7;

export class WebAuthnClientError extends Error {
  /** DOMException names a browser would reject navigator.credentials.* with. */
  constructor(readonly domName: 'InvalidStateError' | 'NotAllowedError' | 'NotSupportedError' | 'SecurityError', message: string) {
    super(`${domName}: ${message}`);
  }
}

export interface PhoneOptions {
  /** 16-byte AAGUID; all zeros by default, as "none" attestation usually reports. */
  aaguid?: Buffer;
  /** Passkey that may be synced (BE) and currently is (BS), like iCloud Keychain / Google PM. */
  synced?: boolean;
  /** Whether the phone has a biometric or PIN unlock to perform user verification. */
  canVerifyUser?: boolean;
}

export interface Tamper {
  /** Client data origin other than the page's (a phishing page, or a wrong app). */
  origin?: string;
  /** Sign for this RP ID, skipping the client's RP ID check (malicious client). */
  rpId?: string;
  /** Clear the UV flag although the options require it (broken authenticator). */
  noUserVerification?: boolean;
  /** Sign this challenge instead of the one in the options. */
  challenge?: string;
  /** Use this signature counter for the next assertion. */
  signCount?: number;
  /** Ignore excludeCredentials (a client that does not honour it). */
  ignoreExclude?: boolean;
  /** Answer with this existing credential id (a forged registration). */
  credentialId?: string;
}

interface HeldCredential {
  id: Buffer;
  rpId: string;
  userHandle: Buffer;
  privateKey: KeyObject;
  signCount: number;
}

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest();

export class SoftwarePhone {
  private readonly credentials = new Map<string, HeldCredential>();
  private readonly aaguid: Buffer;
  private readonly synced: boolean;
  private readonly canVerifyUser: boolean;

  constructor(opts: PhoneOptions = {}) {
    this.aaguid = opts.aaguid ?? Buffer.alloc(16);
    this.synced = opts.synced ?? false;
    this.canVerifyUser = opts.canVerifyUser ?? true;
  }

  /** navigator.credentials.create({publicKey}) then credential.toJSON(). */
  create(options: PublicKeyCredentialCreationOptionsJSON, origin: string, tamper: Tamper = {}): RegistrationResponseJSON {
    const rpId = options.rp.id ?? new URL(origin).hostname;
    this.checkRpId(rpId, origin, tamper);
    if (!options.pubKeyCredParams.some((p) => p.alg === ES256)) throw new WebAuthnClientError('NotSupportedError', 'ES256 not offered');
    if (!tamper.ignoreExclude && options.excludeCredentials?.some((c) => this.credentials.get(c.id)?.rpId === rpId)) {
      throw new WebAuthnClientError('InvalidStateError', 'this authenticator already holds an excluded credential');
    }
    const uv = this.userVerification(options.authenticatorSelection?.userVerification, tamper);
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    const id = tamper.credentialId ? Buffer.from(tamper.credentialId, 'base64url') : randomBytes(32);
    const held: HeldCredential = { id, rpId, userHandle: Buffer.from(options.user.id, 'base64url'), privateKey, signCount: 0 };
    // COSE_Key EC2 (RFC 9053): kty 2, alg ES256, crv P-256, x, y.
    const coseKey = cbor(new Map<Cbor, Cbor>([[1, 2], [3, ES256], [-1, 1], [-2, Buffer.from(jwk.x!, 'base64url')], [-3, Buffer.from(jwk.y!, 'base64url')]]));
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(id.length);
    const authData = Buffer.concat([this.authDataHead(tamper.rpId ?? rpId, uv, FLAG.AT, held.signCount), this.aaguid, idLength, id, coseKey]);
    const attestationObject = cbor(new Map<Cbor, Cbor>([['fmt', 'none'], ['attStmt', new Map()], ['authData', authData]]));
    if (!tamper.credentialId) this.credentials.set(id.toString('base64url'), held);
    const clientDataJSON = this.clientData('webauthn.create', tamper.challenge ?? options.challenge, tamper.origin ?? origin);
    return {
      id: id.toString('base64url'), rawId: id.toString('base64url'), type: 'public-key', authenticatorAttachment: 'platform', clientExtensionResults: {},
      response: { clientDataJSON: clientDataJSON.toString('base64url'), attestationObject: attestationObject.toString('base64url'), transports: ['internal', 'hybrid'] },
    };
  }

  /** navigator.credentials.get({publicKey}) then credential.toJSON(). */
  get(options: PublicKeyCredentialRequestOptionsJSON, origin: string, tamper: Tamper = {}): AuthenticationResponseJSON {
    const rpId = options.rpId ?? new URL(origin).hostname;
    this.checkRpId(rpId, origin, tamper);
    const allowed = options.allowCredentials?.length ? options.allowCredentials.map((c) => c.id) : [...this.credentials.keys()];
    const held = allowed.map((id) => this.credentials.get(id)).find((c) => c?.rpId === rpId);
    if (!held) throw new WebAuthnClientError('NotAllowedError', 'no credential for this relying party on this phone');
    return this.sign(held, options, origin, tamper);
  }

  /** Signs with a specific credential this phone holds, whatever allowCredentials says. */
  getWith(credentialId: string, options: PublicKeyCredentialRequestOptionsJSON, origin: string, tamper: Tamper = {}): AuthenticationResponseJSON {
    const held = this.credentials.get(credentialId);
    if (!held) throw new WebAuthnClientError('NotAllowedError', 'unknown credential');
    return this.sign(held, options, origin, tamper);
  }

  credentialIds(): string[] {
    return [...this.credentials.keys()];
  }

  private sign(held: HeldCredential, options: PublicKeyCredentialRequestOptionsJSON, origin: string, tamper: Tamper): AuthenticationResponseJSON {
    const uv = this.userVerification(options.userVerification, tamper);
    held.signCount = tamper.signCount ?? held.signCount + 1;
    const authData = this.authDataHead(tamper.rpId ?? held.rpId, uv, 0, held.signCount);
    const clientDataJSON = this.clientData('webauthn.get', tamper.challenge ?? options.challenge, tamper.origin ?? origin);
    // ES256 over authenticatorData ‖ SHA-256(clientDataJSON); node signs EC keys in DER by default.
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientDataJSON)]), { key: held.privateKey, dsaEncoding: 'der' });
    const id = held.id.toString('base64url');
    return {
      id, rawId: id, type: 'public-key', authenticatorAttachment: 'platform', clientExtensionResults: {},
      response: {
        clientDataJSON: clientDataJSON.toString('base64url'), authenticatorData: authData.toString('base64url'),
        signature: signature.toString('base64url'), userHandle: held.userHandle.toString('base64url'),
      },
    };
  }

  private checkRpId(rpId: string, origin: string, tamper: Tamper): void {
    if (tamper.rpId) return;
    const host = new URL(origin).hostname;
    if (host !== rpId && !host.endsWith(`.${rpId}`)) throw new WebAuthnClientError('SecurityError', `RP ID ${rpId} is not a suffix of ${host}`);
  }

  private userVerification(requirement: string | undefined, tamper: Tamper): boolean {
    if (tamper.noUserVerification) return false;
    if (requirement === 'required' && !this.canVerifyUser) throw new WebAuthnClientError('NotAllowedError', 'user verification required but unavailable');
    return this.canVerifyUser && requirement !== 'discouraged';
  }

  private authDataHead(rpId: string, uv: boolean, extraFlags: number, signCount: number): Buffer {
    let flags = FLAG.UP | extraFlags;
    if (uv) flags |= FLAG.UV;
    if (this.synced) flags |= FLAG.BE | FLAG.BS;
    const head = Buffer.alloc(37);
    sha256(rpId).copy(head, 0);
    head[32] = flags;
    head.writeUInt32BE(signCount, 33);
    return head;
  }

  private clientData(type: 'webauthn.create' | 'webauthn.get', challenge: string, origin: string): Buffer {
    return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }), 'utf8');
  }
}
