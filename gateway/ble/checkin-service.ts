/**
 * The gateway's side of the GATT check-in (docs/protocol.md §Proof of proximity, docs/gateway.md
 * §The check-in service): what the three characteristics answer, per connection, with no radio
 * code, so that it is tested against the real store without bleno (bleno-gatt.ts wires it).
 *
 * - A read of `challenge` issues a fresh random nonce for that connection (the previous one of the
 *   connection is forgotten), bound to the session and window on air; it is valid NONCE_TTL_MS and
 *   for one write. No live session: no challenge.
 * - A write of `checkin` is checked in this order, the first failure being the receipt's status:
 *   decodes (`malformed`) → a session is on air (`no_session`) → the nonce is this connection's
 *   outstanding one, younger than NONCE_TTL_MS, its session still the one on air and its window the
 *   one on air or the one just before (`nonce_unknown`) → when the gateway holds the session's
 *   check-in keys: the key id is one of them (`unknown_key`) and the signature verifies with that
 *   key over the message of this room, window, nonce and the token advertised for that window
 *   (`bad_signature`) → this key has not already been queued for that window of that session
 *   (`duplicate`) → `queued`: a `checkin.received` event is appended to the outbox in one
 *   transaction. A write that matched the nonce uses it up, whatever follows. Nothing but `queued`
 *   writes to the outbox.
 * - The session's keys come from the cloud (`checkin_keys.set`, gateway/checkin-keys.ts) and live
 *   in the store. Without a set for the session (an older cloud, or the set has not arrived yet)
 *   the key and the signature are not checked here: the write is queued as before, and the cloud
 *   decides. With a set the check is a filter, not the authority: the cloud still verifies every
 *   check-in it receives (device status, enrolment, signature).
 * - The previous window's grace is the nonce's own lifetime: a challenge read before a boundary can
 *   be answered until its nonce expires, at most NONCE_TTL_MS after the boundary.
 * - Duplicates are remembered in memory for the windows on air and just before; after a restart a
 *   repeat is queued again, and the cloud counts it once (unique per session, student and window). */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import {
  NONCE_LENGTH, NONCE_TTL_MS, checkinMessage, decodeCheckin, encodeChallenge, encodeReceipt, parseCheckinKey, verifyCheckin,
  type CheckinWrite, type Receipt, type ReceiptStatus,
} from '../../shared/checkin.js';
import type { OnAir } from '../rotation.js';
import type { KeyLookup } from '../store/checkin-keys.js';
import type { GatewayStore } from '../store/store.js';

type SessionOnAir = Extract<OnAir, { kind: 'session' }>;

export interface CheckinServiceDeps {
  store: GatewayStore;
  roomCode: number;
  /** What is on air now: Rotation.current(). */
  onAir: () => OnAir | null;
  log: Logger;
  now?: () => number;
}

interface Issued {
  sessionId: string;
  w: number;
  nonce: Buffer;
  issuedAt: number;
  bytes: Buffer;
}

interface Connection {
  peer: string;
  rssi: number | null;
  challenge: Issued | null;
  receipt: Buffer | null;
}

const BLE_ADDRESS_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
/** HCI Read RSSI range (Core v5.3 Vol 4 Part E §7.5.4) as the event schema takes it; 127 means "not available". */
const MIN_RSSI = -127;
const MAX_RSSI = 20;

export class CheckinService {
  private readonly connections = new Map<string, Connection>();
  /** Keys queued per window of the session on air: `${sessionId}|${w}` → key_id hex. */
  private readonly queued = new Map<string, Set<string>>();
  private readonly now: () => number;

  constructor(private readonly deps: CheckinServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** A central connected. `peer` is its BLE address; false (and nothing kept) when it is not one. */
  connect(connectionId: string, peer: string): boolean {
    const address = peer.toLowerCase();
    if (!BLE_ADDRESS_RE.test(address)) {
      this.deps.log.warn({ connectionId }, 'check-in connection without a usable peer address; ignored');
      return false;
    }
    this.connections.set(connectionId, { peer: address, rssi: null, challenge: null, receipt: null });
    return true;
  }

  /** The link's RSSI as the controller reads it; kept only when it is a measurement. */
  rssi(connectionId: string, dbm: number): void {
    const connection = this.connections.get(connectionId);
    if (connection && Number.isInteger(dbm) && dbm >= MIN_RSSI && dbm <= MAX_RSSI) connection.rssi = dbm;
  }

  /** The central went away: its nonce and receipt go with it. */
  disconnect(connectionId: string): void {
    this.connections.delete(connectionId);
  }

  /** Forgets every connection (the radio stopped). */
  clear(): void {
    this.connections.clear();
  }

  connected(): number {
    return this.connections.size;
  }

  /** The 25 bytes of a fresh challenge for this connection, or null (unknown connection, no live session). */
  challenge(connectionId: string): Buffer | null {
    const connection = this.connections.get(connectionId);
    const onAir = this.sessionOnAir();
    if (!connection || !onAir) return null;
    const nonce = randomBytes(NONCE_LENGTH);
    const bytes = encodeChallenge({ roomCode: this.deps.roomCode, w: onAir.w, nonce });
    connection.challenge = { sessionId: onAir.sessionId, w: onAir.w, nonce, issuedAt: this.now(), bytes };
    return bytes;
  }

  /** The bytes of the connection's current challenge (what a long read continues), or null. */
  currentChallenge(connectionId: string): Buffer | null {
    return this.connections.get(connectionId)?.challenge?.bytes ?? null;
  }

  /** The connection's last receipt (6 bytes), or null before its first write. */
  receipt(connectionId: string): Buffer | null {
    return this.connections.get(connectionId)?.receipt ?? null;
  }

  /**
   * Handles a write of the check-in characteristic. Returns the receipt, also kept for a later
   * read; null for an unknown connection, or when the store could not record the check-in (logged;
   * the phone may retry with a new challenge).
   */
  checkin(connectionId: string, bytes: Uint8Array): Receipt | null {
    const connection = this.connections.get(connectionId);
    if (!connection) return null;
    const now = this.now();
    const onAir = this.sessionOnAir();
    const issued = connection.challenge;
    const fallbackW = issued?.w ?? onAir?.w ?? 0;
    const answer = (status: ReceiptStatus, w: number): Receipt => {
      const receipt: Receipt = { status, w };
      connection.receipt = encodeReceipt(receipt);
      return receipt;
    };

    const decoded = decodeCheckin(bytes);
    if (!decoded.ok) return answer('malformed', fallbackW);
    if (!onAir) return answer('no_session', fallbackW);
    const write = decoded.value;
    if (!issued || !issued.nonce.equals(write.nonce)) return answer('nonce_unknown', fallbackW);
    connection.challenge = null;
    const fresh = now - issued.issuedAt <= NONCE_TTL_MS;
    const sameSession = issued.sessionId === onAir.sessionId;
    const windowOnAir = issued.w === onAir.w || issued.w === onAir.w - 1;
    if (!fresh || !sameSession || !windowOnAir) return answer('nonce_unknown', issued.w);

    const keyIdHex = write.keyId.toString('hex');
    const refused = this.keyVerdict(issued, write, keyIdHex);
    if (refused) return answer(refused, issued.w);

    this.forgetOldWindows(onAir);
    const windowKey = `${issued.sessionId}|${issued.w}`;
    if (this.queued.get(windowKey)?.has(keyIdHex)) return answer('duplicate', issued.w);

    const { store } = this.deps;
    try {
      store.transaction((tx) => {
        store.outbox.append(
          'checkin.received',
          {
            session_id: issued.sessionId,
            w: issued.w,
            key_id: keyIdHex,
            nonce: write.nonce.toString('hex'),
            signature: write.signature.toString('hex'),
            rssi: connection.rssi,
            peer: connection.peer,
            latency_ms: Math.max(0, Math.round(now - issued.issuedAt)),
          },
          now,
        );
        tx.afterCommit(() => this.remember(windowKey, keyIdHex));
      });
    } catch (err) {
      this.deps.log.error({ err, sessionId: issued.sessionId, w: issued.w }, 'check-in could not be recorded');
      return null;
    }
    return answer('queued', issued.w);
  }

  /**
   * `unknown_key` or `bad_signature` when the gateway holds the session's keys and the write fails
   * them; null when it passes, or when there is nothing to check it against (no set; the window's
   * token not in the advertised-windows log, which a challenge's window always is).
   */
  private keyVerdict(issued: Issued, write: CheckinWrite, keyIdHex: string): 'unknown_key' | 'bad_signature' | null {
    const { store, roomCode, log } = this.deps;
    let known: KeyLookup;
    let token: string | null;
    try {
      known = store.checkinKeys.lookup(issued.sessionId, keyIdHex);
      token = store.advertisedWindows.token(issued.sessionId, issued.w);
    } catch (err) {
      log.error({ err, sessionId: issued.sessionId }, 'check-in keys unreadable: left to the cloud');
      return null;
    }
    if (!known.set) return null;
    if (known.spki === null) return 'unknown_key';
    const key = parseCheckinKey(known.spki);
    if (!key.ok || token === null) {
      log.warn({ sessionId: issued.sessionId, w: issued.w, keyUsable: key.ok }, 'check-in not verified here: left to the cloud');
      return null;
    }
    const message = checkinMessage(roomCode, issued.w, issued.nonce, Buffer.from(token, 'hex'));
    return verifyCheckin(key.value.key, message, write.signature) ? null : 'bad_signature';
  }

  private sessionOnAir(): SessionOnAir | null {
    const onAir = this.deps.onAir();
    return onAir?.kind === 'session' ? onAir : null;
  }

  private remember(windowKey: string, keyIdHex: string): void {
    let keys = this.queued.get(windowKey);
    if (!keys) this.queued.set(windowKey, (keys = new Set()));
    keys.add(keyIdHex);
  }

  /** Keeps only the windows a write can still be for: the one on air and the one before, of the session on air. */
  private forgetOldWindows(onAir: SessionOnAir): void {
    const keep = new Set([`${onAir.sessionId}|${onAir.w}`, `${onAir.sessionId}|${onAir.w - 1}`]);
    for (const key of this.queued.keys()) if (!keep.has(key)) this.queued.delete(key);
  }
}
