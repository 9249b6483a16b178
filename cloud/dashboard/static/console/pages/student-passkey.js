/* global navigator, window, atob, btoa */
// Creating a passkey in this browser (WebAuthn): the server's creation options (JSON, binary
// fields as base64url) turned into what navigator.credentials.create() takes, and the new
// credential back into the JSON the server reads (credential.toJSON() of WebAuthn Level 3). Written
// out by hand so that browsers without PublicKeyCredential.parseCreationOptionsFromJSON work too.
// The browser has no check-in key (that lives in the app's secure hardware), so none is sent.

const toBytes = (b64url) => {
  const b64 = b64url.replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
};

const toB64url = (buffer) => {
  let bin = '';
  for (const b of new Uint8Array(buffer)) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
};

/** Whether this browser can create passkeys at all. */
export const passkeysSupported = () => typeof window.PublicKeyCredential === 'function' && !!navigator.credentials?.create;

/** PublicKeyCredentialCreationOptionsJSON → PublicKeyCredentialCreationOptions. */
function creationOptions(json) {
  return {
    ...json,
    challenge: toBytes(json.challenge),
    user: { ...json.user, id: toBytes(json.user.id) },
    excludeCredentials: (json.excludeCredentials ?? []).map((c) => ({ ...c, id: toBytes(c.id) })),
  };
}

/** A new PublicKeyCredential → RegistrationResponseJSON. */
function registrationJson(cred) {
  const r = cred.response;
  const optional = (fn) => {
    try {
      return fn();
    } catch {
      return undefined;
    }
  };
  const publicKey = optional(() => r.getPublicKey?.());
  const authenticatorData = optional(() => r.getAuthenticatorData?.());
  return {
    id: cred.id,
    rawId: toB64url(cred.rawId),
    type: cred.type,
    authenticatorAttachment: cred.authenticatorAttachment ?? undefined,
    clientExtensionResults: cred.getClientExtensionResults?.() ?? {},
    response: {
      clientDataJSON: toB64url(r.clientDataJSON),
      attestationObject: toB64url(r.attestationObject),
      transports: optional(() => r.getTransports?.()),
      authenticatorData: authenticatorData ? toB64url(authenticatorData) : undefined,
      publicKey: publicKey ? toB64url(publicKey) : undefined,
      publicKeyAlgorithm: optional(() => r.getPublicKeyAlgorithm?.()),
    },
  };
}

/** Asks the browser (and its fingerprint, face or PIN unlock) for a new passkey; returns its JSON. */
export async function createPasskey(optionsJson, signal) {
  const cred = await navigator.credentials.create({ publicKey: creationOptions(optionsJson), signal });
  return registrationJson(cred);
}
