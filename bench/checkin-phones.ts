/**
 * The check-in phones of bench/checkin.ts: each is the real noble on a virtual controller of the
 * bench process (test/ble/central.ts), joined to the air the gateway process advertises on. A
 * check-in is what the app does (docs/protocol.md, "What the phone app does"): hear the room's
 * frame, connect, subscribe to the receipt, read the challenge, sign it (shared/checkin-phone.ts),
 * write, wait for the notified receipt, then disconnect at once — it does not wait for the
 * gateway's 1 s-after-receipt policy. A failed link (0x3E when phones answer the same advertising
 * event) is retried, at once or after a random pause, and every retry is counted.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { Logger } from 'pino';
import { ensureVirtualController } from '../gateway/ble/radio.js';
import { ATTENDANCE_SERVICE_UUID, CHALLENGE_CHAR_UUID, CHECKIN_CHAR_UUID, RECEIPT_CHAR_UUID, type Receipt } from '../shared/checkin.js';
import { Backoff } from '../shared/backoff.js';
import { CHECKIN_RETRY_BACKOFF, answerChallenge, checkinKeyOf } from '../shared/checkin-phone.js';

/** After a failed link: the app's backoff, a random pause of 0..N ms, or none (0). */
export type RetryPause = 'app' | number;
import type { Frame } from '../shared/frame.js';
import { abandonLink, hearRoom, nextReceipt, startCentral, whileConnected, type Noble, type NoblePeripheral } from '../test/ble/central.js';

const noDashes = (uuid: string) => uuid.replaceAll('-', '');
const SERVICE = noDashes(ATTENDANCE_SERVICE_UUID);
const CHARACTERISTICS = [CHALLENGE_CHAR_UUID, CHECKIN_CHAR_UUID, RECEIPT_CHAR_UUID].map(noDashes);
/** A phone gives up a check-in after this many failed links (an app would tell its user). */
const MAX_ATTEMPTS = 50;

/** A student's device-bound check-in key (P-256) and the key id it writes. */
export interface CheckinKey {
  privateKey: KeyObject;
  keyId: Buffer;
}

export function newCheckinKey(): CheckinKey {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { privateKey, keyId: checkinKeyOf(privateKey).keyId };
}

/** Where the successful attempt's time went, in ms, in the order a phone goes through it. */
export interface Stages {
  /** Scanning until the room's frame was heard (before this attempt's connect). */
  hear: number;
  /** LE Create Connection until the link is up: waits for the gateway's next advertising event. */
  connect: number;
  /** Service and characteristic discovery, subscribing to the receipt. */
  discover: number;
  /** Reading the challenge (a long read: 25 bytes over 27-byte ACL packets). */
  challenge: number;
  /** Signing, the write and the notified receipt (the gateway's checks and its outbox append). */
  receipt: number;
  /** The phone's own disconnect, after the receipt. */
  disconnect: number;
}

export const STAGES = ['hear', 'connect', 'discover', 'challenge', 'receipt', 'disconnect'] as const;

export interface CheckinResult {
  receipt: Receipt;
  /** Links that failed before the one that got the receipt. */
  retries: number;
  /** Why each of those failed (the error's message). */
  failures: string[];
  /** When the successful link was up and when it was gone (performance.now()). */
  linkUp: number;
  linkDown: number;
  /** From the first connect attempt to the notified receipt. */
  ms: number;
  stages: Stages;
}

export class CheckinPhone {
  private constructor(private readonly noble: Noble) {}

  /** Phone number `n` (virtual hci`n` of this process, n >= 1) on the air at `airAddress`. */
  static async start(n: number, airAddress: string, logger: Logger): Promise<CheckinPhone> {
    const address = `c0:ff:ee:00:08:${n.toString(16).padStart(2, '0')}`;
    ensureVirtualController(n, logger, { air: airAddress, address, rssi: -55, rssiJitterDb: 0 });
    return new CheckinPhone(await startCentral(n));
  }

  /**
   * One check-in with `key` in room `roomCode`, retried until a receipt arrives; after a failed
   * link the phone waits as the app does (`'app'`: CHECKIN_RETRY_BACKOFF), a random
   * 0..`retry` ms, or not at all (0) before it listens again.
   */
  async checkIn(key: CheckinKey, roomCode: number, retry: RetryPause = 'app'): Promise<CheckinResult> {
    let started: number | undefined;
    const failures: string[] = [];
    const backoff = new Backoff(CHECKIN_RETRY_BACKOFF);
    const pause = () => (retry === 'app' ? backoff.next() : Math.random() * retry);
    for (let attempt = 1; ; attempt++) {
      const hearing = performance.now();
      const { peripheral, frame } = await hearRoom(this.noble, roomCode);
      const heard = performance.now();
      started ??= heard;
      try {
        const { receipt, at } = await this.visit(peripheral, frame, key);
        const stages: Stages = { hear: heard - hearing, connect: at[0] - heard, discover: at[1] - at[0], challenge: at[2] - at[1], receipt: at[3] - at[2], disconnect: at[4] - at[3] };
        return { receipt, retries: attempt - 1, failures, linkUp: at[0], linkDown: at[4], ms: at[3] - started, stages };
      } catch (error) {
        if (attempt >= MAX_ATTEMPTS) throw error;
        failures.push(error instanceof Error ? error.message : String(error));
        await abandonLink(peripheral);
        if (retry !== 0) await new Promise((resolve) => setTimeout(resolve, pause()));
      }
    }
  }

  /** One connection; `at` = when it was up, discovered, the challenge read, the receipt notified, disconnected. */
  private async visit(peripheral: NoblePeripheral, frame: Frame, key: CheckinKey): Promise<{ receipt: Receipt; at: [number, number, number, number, number] }> {
    await peripheral.connectAsync();
    const connected = performance.now();
    let discovered = 0;
    let challenged = 0;
    const receipt = await whileConnected(
      peripheral,
      (async () => {
        const { characteristics } = await peripheral.discoverSomeServicesAndCharacteristicsAsync([SERVICE], CHARACTERISTICS);
        const byUuid = (uuid: string) => characteristics.find((c) => c.uuid === noDashes(uuid))!;
        const receiptChar = byUuid(RECEIPT_CHAR_UUID);
        await receiptChar.subscribeAsync();
        discovered = performance.now();
        const challenge = await byUuid(CHALLENGE_CHAR_UUID).readAsync();
        challenged = performance.now();
        const answer = answerChallenge({ challenge, advertised: frame, ...key });
        if (!answer.ok) throw new Error(answer.reason);
        const notified = nextReceipt(receiptChar);
        await byUuid(CHECKIN_CHAR_UUID).writeAsync(answer.value, false);
        return notified;
      })(),
    );
    const received = performance.now();
    await peripheral.disconnectAsync();
    return { receipt, at: [connected, discovered, challenged, received, performance.now()] };
  }
}
