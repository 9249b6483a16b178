/**
 * What the beacon puts on air: the session frame of docs/protocol.md §On air, or the
 * idle frame documented in docs/gateway.md §What goes on air when no session is live.
 */
import { advertisingData, parseAdStructures, scanResponseData } from '../shared/advertisement.js';
import { encodeFrame } from '../shared/frame.js';
import { deriveSessionKey, tokenForWindow } from '../shared/token.js';
import type { AdvertisingPayload } from './ble/advertiser.js';

export interface BeaconIdentity {
  roomCode: number;
  roomSecret: Buffer;
  companyId: number;
  localName: string;
}

/** Idle frame version byte: distinct from the session frame's 0x01 and shorter, so no decoder takes it for a token. */
export const IDLE_FRAME_VERSION = 0x00;

export class OnAirEncoder {
  private cachedSession: { id: string; key: Buffer } | null = null;

  constructor(private readonly id: BeaconIdentity) {}

  token(sessionId: string, w: number): Buffer {
    if (this.cachedSession?.id !== sessionId) {
      this.cachedSession = { id: sessionId, key: deriveSessionKey(this.id.roomSecret, sessionId) };
    }
    return tokenForWindow(this.cachedSession.key, w);
  }

  sessionPayload(sessionId: string, w: number): AdvertisingPayload {
    const frame = encodeFrame({ roomCode: this.id.roomCode, w, token: this.token(sessionId, w) });
    return { advertisingData: advertisingData(frame, this.id.companyId), scanResponse: scanResponseData(this.id.localName) };
  }

  /**
   * Flags + manufacturer data `08 FF <company id LE> 00 <room_code BE>`: says "this room's beacon
   * is alive, no session", which an installer's scan can show, and carries no token.
   */
  idlePayload(): AdvertisingPayload {
    const ad = Buffer.alloc(3 + 9);
    ad.set([0x02, 0x01, 0x06, 0x08, 0xff], 0);
    ad.writeUInt16LE(this.id.companyId, 5);
    ad[7] = IDLE_FRAME_VERSION;
    ad.writeUInt32BE(this.id.roomCode, 8);
    return { advertisingData: ad, scanResponse: scanResponseData(this.id.localName) };
  }
}

/** Decodes an idle frame (for `scan`), or null. */
export function findIdleFrame(data: Buffer, companyId: number): { roomCode: number } | null {
  for (const ad of parseAdStructures(data)) {
    // Manufacturer data: company id, version, room code.
    if (ad.type === 0xff && ad.data.length === 7 && ad.data.readUInt16LE(0) === companyId && ad.data[2] === IDLE_FRAME_VERSION) {
      return { roomCode: ad.data.readUInt32BE(3) };
    }
  }
  return null;
}
