/**
 * The software phone the biometric tests rely on must be a faithful WebAuthn authenticator, or the
 * server tests prove nothing. Checked here against RFC 8949's CBOR examples and an independent
 * decoding of its output (the library's parsers, node:crypto's verifier).
 */
import { createHash, createPublicKey, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeAttestationObject, decodeCredentialPublicKey, parseAuthenticatorData } from '@simplewebauthn/server/helpers';
import { SoftwarePhone, WebAuthnClientError, cbor } from '../fakes/authenticator.js';

const RP = 'attendance.uni.example';
const ORIGIN = `https://${RP}`;
const creationOptions = (exclude: string[] = []) => ({
  challenge: Buffer.alloc(32, 1).toString('base64url'), rp: { id: RP, name: 'Test' }, user: { id: Buffer.alloc(16, 2).toString('base64url'), name: 'a@uni.example', displayName: 'A' },
  pubKeyCredParams: [{ alg: -7, type: 'public-key' as const }], authenticatorSelection: { userVerification: 'required' as const },
  excludeCredentials: exclude.map((id) => ({ id, type: 'public-key' as const })),
});

describe('CBOR encoder (RFC 8949 Appendix A examples)', () => {
  it.each([
    [0, '00'], [23, '17'], [24, '1818'], [1000, '1903e8'], [1000000, '1a000f4240'], [-1, '20'], [-7, '26'], [-1000, '3903e7'],
    ['a', '6161'], ['IETF', '6449455446'], [Buffer.from([1, 2, 3, 4]), '4401020304'], [new Map([[1, 2], [3, 4]]), 'a201020304'],
  ] as const)('encodes %o as %s', (value, hex) => {
    expect(cbor(value as never).toString('hex')).toBe(hex);
  });

  it('orders map keys canonically (CTAP2): shorter encodings first', () => {
    expect(cbor(new Map<string | number, number>([['fmt', 1], [-1, 2], [3, 3]])).toString('hex')).toBe('a3' + '0303' + '2002' + '63666d7401');
  });
});

describe('software phone', () => {
  it('creates "none" attestation with attested credential data and an EC2 P-256 COSE key', () => {
    const phone = new SoftwarePhone({ synced: true });
    const reg = phone.create(creationOptions(), ORIGIN);
    const att = decodeAttestationObject(Buffer.from(reg.response.attestationObject, 'base64url'));
    expect(att.get('fmt')).toBe('none');
    expect(att.get('attStmt').size).toBe(0);
    const auth = parseAuthenticatorData(att.get('authData'));
    expect(Buffer.from(auth.rpIdHash).equals(createHash('sha256').update(RP).digest())).toBe(true);
    expect(auth.flags).toMatchObject({ up: true, uv: true, be: true, bs: true, at: true, ed: false });
    expect(auth.counter).toBe(0);
    expect(Buffer.from(auth.credentialID!).toString('base64url')).toBe(reg.id);
    const key = decodeCredentialPublicKey(auth.credentialPublicKey!) as unknown as Map<number, unknown>;
    expect([key.get(1), key.get(3), key.get(-1)]).toEqual([2, -7, 1]);
    const client = JSON.parse(Buffer.from(reg.response.clientDataJSON, 'base64url').toString());
    expect(Object.keys(client)).toEqual(['type', 'challenge', 'origin', 'crossOrigin']);
    expect(client).toMatchObject({ type: 'webauthn.create', origin: ORIGIN });
  });

  it('signs assertions in DER over authenticatorData ‖ SHA-256(clientDataJSON), counting up', () => {
    const phone = new SoftwarePhone();
    const reg = phone.create(creationOptions(), ORIGIN);
    const auth = parseAuthenticatorData(decodeAttestationObject(Buffer.from(reg.response.attestationObject, 'base64url')).get('authData'));
    const cose = decodeCredentialPublicKey(auth.credentialPublicKey!) as unknown as Map<number, Uint8Array>;
    const coord = (label: number) => Buffer.from(cose.get(label)!).toString('base64url');
    const publicKey = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: coord(-2), y: coord(-3) }, format: 'jwk' });
    const request = { challenge: Buffer.alloc(32, 9).toString('base64url'), rpId: RP, userVerification: 'required' as const, allowCredentials: [{ id: reg.id, type: 'public-key' as const }] };
    for (const expected of [1, 2]) {
      const a = phone.get(request, ORIGIN);
      const authData = Buffer.from(a.response.authenticatorData, 'base64url');
      const signed = Buffer.concat([authData, createHash('sha256').update(Buffer.from(a.response.clientDataJSON, 'base64url')).digest()]);
      const sig = Buffer.from(a.response.signature, 'base64url');
      expect(sig[0]).toBe(0x30); // DER SEQUENCE, not raw r‖s
      expect(verify('sha256', signed, { key: publicKey, dsaEncoding: 'der' }, sig)).toBe(true);
      expect(parseAuthenticatorData(authData)).toMatchObject({ counter: expected, flags: { up: true, uv: true, be: false, bs: false, at: false } });
    }
  });

  it('behaves like a client: RP ID must fit the origin, excluded credentials refuse creation', () => {
    const phone = new SoftwarePhone();
    expect(() => phone.create(creationOptions(), 'https://evil.example')).toThrow(/SecurityError/);
    const reg = phone.create(creationOptions(), ORIGIN);
    expect(() => phone.create(creationOptions([reg.id]), ORIGIN)).toThrow(WebAuthnClientError);
    expect(() => new SoftwarePhone({ canVerifyUser: false }).create(creationOptions(), ORIGIN)).toThrow(/NotAllowedError/);
  });
});
