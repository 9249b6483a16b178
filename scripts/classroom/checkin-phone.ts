/**
 * A student's phone that checks in over GATT, for the end-to-end tests and the demo: the real
 * noble on a virtual controller of this process, on the virtual air (the hub the gateway process
 * joined). `checkIn` is what the app does (docs/protocol.md §Proof of proximity, "What the phone
 * app does"): hear the room's advertisement, connect, read the challenge, answer it with
 * shared/checkin-phone.ts, write, read the receipt, disconnect. bleno serves one connection at a
 * time (docs/gateway.md, "The check-in service"), so a link that fails, drops or goes unanswered
 * is retried after a growing, jittered pause. `enrolCheckinKey` registers the phone's passkey
 * with its check-in key over HTTP, as an app does once per phone.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { Logger } from 'pino';
import { encodeNobleAdvertisement, type NobleAdvertisement } from '../../gateway/ble/noble-advertisement.js';
import { ensureVirtualController } from '../../gateway/ble/radio.js';
import type { Air } from '../../gateway/ble/virtual/air.js';
import { findAttendanceFrame } from '../../shared/advertisement.js';
import { Backoff } from '../../shared/backoff.js';
import { ATTENDANCE_SERVICE_UUID, CHALLENGE_CHAR_UUID, CHECKIN_CHAR_UUID, RECEIPT_CHAR_UUID, decodeReceipt, type Receipt } from '../../shared/checkin.js';
import { CHECKIN_RETRY_BACKOFF, answerChallenge, checkinKeyOf } from '../../shared/checkin-phone.js';
import type { Frame } from '../../shared/frame.js';
import { SoftwarePhone } from '../../test/fakes/authenticator.js';
import { startCentral, whileConnected, type Noble, type NoblePeripheral } from '../../test/ble/central.js';
import type { CloudApi, Person } from './api.js';

/** A device-bound P-256 check-in key and the key_id the phone writes with it. */
export interface CheckinKey {
  privateKey: KeyObject;
  keyId: Buffer;
}

export interface CheckinResult {
  receipt: Receipt;
  /** The frame heard in the advertisement the check-in answered. */
  frame: Frame;
  attempts: number;
}

export interface CheckinOptions {
  /** Give up after this long (default 30 s). */
  timeoutMs?: number;
  /** Hearing the room, and the GATT exchange after it, may each take this long in one attempt (default 5 s). */
  attemptMs?: number;
}

/** noble's peripheral, with the cancel of a connection still being set up. */
type Peripheral = NoblePeripheral & { cancelConnect(): void };

const noDashes = (uuid: string): string => uuid.replaceAll('-', '');
const SERVICE = noDashes(ATTENDANCE_SERVICE_UUID);
const CHARACTERISTICS = [CHALLENGE_CHAR_UUID, CHECKIN_CHAR_UUID, RECEIPT_CHAR_UUID].map(noDashes);

/** Receipts after which the phone is done (trying again changes nothing); any other is retried with a fresh challenge. */
const FINAL: ReadonlySet<Receipt['status']> = new Set(['queued', 'duplicate', 'no_session', 'unknown_key', 'bad_signature']);

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

export class GattPhone {
  private constructor(
    private readonly noble: Noble,
    /** The phone's BLE address: the `peer` the gateway reports. */
    readonly address: string,
  ) {}

  /** The phone on virtual controller hci`deviceId` (unused in this process) joined to `air` (an Air, or a hub's address). */
  static async start(deviceId: number, air: Air | string, logger: Logger, address?: string): Promise<GattPhone> {
    const controller = ensureVirtualController(deviceId, logger, { air, ...(address !== undefined && { address }), rssi: -58, rssiJitterDb: 3 });
    return new GattPhone(await startCentral(deviceId), controller.address);
  }

  /** Checks in with `key` at the gateway of room `roomCode`; resolves with a final receipt. */
  async checkIn(roomCode: number, key: CheckinKey, o: CheckinOptions = {}): Promise<CheckinResult> {
    const deadline = Date.now() + (o.timeoutMs ?? 30_000);
    const backoff = new Backoff(CHECKIN_RETRY_BACKOFF);
    let lastError: Error | null = null;
    for (let attempt = 1; Date.now() < deadline; attempt++) {
      let peripheral: Peripheral | null = null;
      try {
        const attemptMs = Math.max(1, Math.min(o.attemptMs ?? 5_000, deadline - Date.now()));
        const heard = await this.hear(roomCode, attemptMs);
        const frame = heard.frame;
        peripheral = heard.peripheral;
        // A link bleno dropped for a newer one is never answered: the timeout ends the wait, leave() the link.
        const receipt = await withTimeout(this.exchange(peripheral, frame, key), attemptMs, 'the GATT exchange');
        await this.leave(peripheral);
        if (FINAL.has(receipt.status)) return { receipt, frame, attempts: attempt };
        lastError = new Error(`receipt ${receipt.status}`);
      } catch (error) {
        lastError = error instanceof Error ? error : new Error(String(error));
        await this.leave(peripheral);
      }
      await new Promise((resolve) => setTimeout(resolve, backoff.next()));
    }
    throw new Error(`no check-in at room ${roomCode}: ${lastError?.message ?? 'timed out'}`);
  }

  /** Scans until an advertisement carries a frame of the room (what the app hears), for at most `ms`. */
  private async hear(roomCode: number, ms: number): Promise<{ peripheral: Peripheral; frame: Frame }> {
    let onDiscover: ((p: Peripheral & { advertisement: NobleAdvertisement }) => void) | undefined;
    const heard = new Promise<{ peripheral: Peripheral; frame: Frame }>((resolve) => {
      onDiscover = (peripheral) => {
        const frame = findAttendanceFrame(encodeNobleAdvertisement(peripheral.advertisement));
        if (frame?.roomCode === roomCode) resolve({ peripheral, frame });
      };
      this.noble.on('discover', onDiscover);
    });
    try {
      await this.noble.startScanningAsync([SERVICE], true);
      return await withTimeout(heard, ms, `hearing room ${roomCode}`);
    } finally {
      this.noble.off('discover', onDiscover!);
      await this.noble.stopScanningAsync();
    }
  }

  /** Connects, reads the challenge, writes the answer and reads the receipt. */
  private async exchange(peripheral: NoblePeripheral, frame: Frame, key: CheckinKey): Promise<Receipt> {
    await peripheral.connectAsync();
    return whileConnected(
      peripheral,
      (async () => {
        const { characteristics } = await peripheral.discoverSomeServicesAndCharacteristicsAsync([SERVICE], CHARACTERISTICS);
        const [challenge, checkin, receipt] = CHARACTERISTICS.map((uuid) => characteristics.find((c) => c.uuid === uuid));
        if (!challenge || !checkin || !receipt) throw new Error('the gateway does not serve the check-in');
        const answer = answerChallenge({ challenge: await challenge.readAsync(), advertised: frame, privateKey: key.privateKey, keyId: key.keyId });
        if (!answer.ok) throw new Error(answer.reason);
        await checkin.writeAsync(answer.value, false);
        const decoded = decodeReceipt(await receipt.readAsync());
        if (!decoded.ok) throw new Error(decoded.reason);
        return decoded.value;
      })(),
    );
  }

  private async leave(peripheral: Peripheral | null): Promise<void> {
    if (!peripheral) return;
    // noble keeps a lost attempt's discovery waiting on the peripheral; it would answer twice.
    peripheral.removeAllListeners('servicesDiscover');
    if (peripheral.state === 'connecting') peripheral.cancelConnect();
    if (peripheral.state === 'connected') await peripheral.disconnectAsync();
  }
}

/**
 * Enrols a new phone for the student: the passkey ceremony (a software authenticator answering
 * for `origin`) with a fresh P-256 check-in key. Resolves with the key the phone checks in with.
 */
export async function enrolCheckinKey(api: CloudApi, student: Person, origin: string): Promise<CheckinKey> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { checkinKey, keyId } = checkinKeyOf(privateKey);
  const { options } = await api.must<{ options: Parameters<SoftwarePhone['create']>[0] }>(200, 'POST', '/api/v1/student/biometric/register/options', { token: student.token, body: {} });
  await api.must(201, 'POST', '/api/v1/student/biometric/register', {
    token: student.token,
    body: { credential: new SoftwarePhone().create(options, origin), device_name: `${student.fullName}'s phone`, checkin_key: checkinKey },
  });
  return { privateKey, keyId };
}
