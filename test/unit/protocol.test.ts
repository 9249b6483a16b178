import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { deriveSessionKey, tokenEquals, tokenForWindow, windowIndex, windowEndMs, windowStartMs } from '../../shared/token.js';
import { parseCommand } from '../../shared/mqtt/messages.js';
import { FrameError, decodeFrame, decodeFrameHex, encodeFrame } from '../../shared/frame.js';
import { advertisingData, findAttendanceFrame, parseAdStructures, scanResponseData, serviceUuidBytesLE } from '../../shared/advertisement.js';
import { UUIDV7_RE, uuidv7 } from '../../shared/ids.js';

// Golden vectors — docs/protocol.md §Golden vectors.
const SECRET = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');
const SESSION = '0192f3a0-7c00-7000-8000-000000000001';
const ROOM = 0x00012345;
const VECTORS: Array<[number, number, number, string, string]> = [
  [1767225600000, 300, 5890752, '06c9a0994e042a82', '01000123450059e2c006c9a0994e042a82'],
  [1767225899999, 300, 5890752, '06c9a0994e042a82', '01000123450059e2c006c9a0994e042a82'],
  [1767225900000, 300, 5890753, 'ad8b3c8fc18cb38c', '01000123450059e2c1ad8b3c8fc18cb38c'],
  [1767225600000, 10, 176722560, '165423d97d271881', '01000123450a889280165423d97d271881'],
];

describe('golden vectors', () => {
  it('derives the session key', () => {
    expect(deriveSessionKey(SECRET, SESSION).toString('hex')).toBe('58fea456d9ed73f5264108395b13995b93dd076652048612b25be987d00b2a6c');
  });
  it.each(VECTORS)('t=%i period=%i → w=%i token=%s', (ms, period, w, token, frame) => {
    const key = deriveSessionKey(SECRET, SESSION);
    expect(windowIndex(ms, period)).toBe(w);
    expect(tokenForWindow(key, w).toString('hex')).toBe(token);
    expect(encodeFrame({ roomCode: ROOM, w, token: tokenForWindow(key, w) }).toString('hex')).toBe(frame);
  });
  it('builds the on-air advertising data', () => {
    const frame = Buffer.from(VECTORS[0]![4], 'hex');
    expect(advertisingData(frame).toString('hex')).toBe('02010614ffffff' + VECTORS[0]![4]);
    expect(advertisingData(frame).length).toBe(24);
    expect(advertisingData(frame, 0x0059).subarray(5, 7).toString('hex')).toBe('5900');
  });
});

describe('windows', () => {
  it('are epoch aligned and contiguous', () => {
    expect(windowStartMs(5890752, 300)).toBe(1767225600000);
    expect(windowEndMs(5890752, 300)).toBe(1767225900000);
  });
  it('rejects periods outside 10..3600 where they enter the gateway (the command schema)', () => {
    const accepted = (period_s: number) =>
      parseCommand(JSON.stringify({ id: uuidv7(), type: 'session.start', at: new Date().toISOString(), data: { session_id: uuidv7(), course_id: null, period_s } })).ok;
    expect([9, 3601, 12.5].map(accepted)).toEqual([false, false, false]);
    expect([10, 3600].map(accepted)).toEqual([true, true]);
  });
  it('rejects a room secret of the wrong size', () => {
    expect(() => deriveSessionKey(Buffer.alloc(16), SESSION)).toThrow(/32 bytes/);
  });
});

describe('frame codec', () => {
  it('round-trips every valid frame', () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffffffff }), fc.nat({ max: 0xffffffff }), fc.uint8Array({ minLength: 8, maxLength: 8 }), (roomCode, w, token) => {
        const bytes = encodeFrame({ roomCode, w, token: Buffer.from(token) });
        const back = decodeFrame(bytes);
        expect(back.roomCode).toBe(roomCode);
        expect(back.w).toBe(w);
        expect(back.token.equals(Buffer.from(token))).toBe(true);
      }),
    );
  });
  it('names what is wrong with a malformed frame', () => {
    expect(() => decodeFrame(Buffer.alloc(16))).toThrow(/17 bytes, got 16/);
    expect(() => decodeFrame(Buffer.alloc(17))).toThrow(/unsupported frame version 0x00/);
    expect(() => decodeFrameHex('zz')).toThrow(FrameError);
    expect(() => decodeFrameHex('01' + '00'.repeat(15) + '0')).toThrow(/34 hex characters/);
    expect(() => encodeFrame({ roomCode: -1, w: 0, token: Buffer.alloc(8) })).toThrow(/room_code/);
    expect(() => encodeFrame({ roomCode: 1, w: 2 ** 32, token: Buffer.alloc(8) })).toThrow(/window/);
    expect(() => encodeFrame({ roomCode: 1, w: 1, token: Buffer.alloc(7) })).toThrow(/token/);
  });
  it('never throws anything but FrameError on arbitrary input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        try {
          decodeFrame(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(FrameError);
        }
      }),
    );
  });
});

describe('token verification', () => {
  const secretArb = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b));
  const sessionArb = fc.constant(null).map(() => uuidv7());
  const windowArb = fc.nat({ max: 0xfffffffe });

  it('verifies the token of its own window', () => {
    fc.assert(fc.property(secretArb, sessionArb, windowArb, (secret, session, w) => {
      const key = deriveSessionKey(secret, session);
      expect(tokenEquals(tokenForWindow(key, w), tokenForWindow(key, w))).toBe(true);
    }), { numRuns: 200 });
  });
  it('never verifies for another window, session or room', () => {
    fc.assert(
      fc.property(secretArb, secretArb, sessionArb, sessionArb, windowArb, windowArb, (s1, s2, sess1, sess2, w1, w2) => {
        const key = deriveSessionKey(s1, sess1);
        const token = tokenForWindow(key, w1);
        if (w1 !== w2) expect(tokenEquals(tokenForWindow(key, w2), token)).toBe(false);
        if (sess1 !== sess2) expect(tokenEquals(tokenForWindow(deriveSessionKey(s1, sess2), w1), token)).toBe(false);
        if (!s1.equals(s2)) expect(tokenEquals(tokenForWindow(deriveSessionKey(s2, sess1), w1), token)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
  it('rejects tokens of the wrong length without throwing', () => {
    const key = deriveSessionKey(SECRET, SESSION);
    expect(tokenEquals(tokenForWindow(key, 1), Buffer.alloc(7))).toBe(false);
  });
});

describe('advertisement parsing', () => {
  it('finds our frame among other AD structures and ignores foreign beacons', () => {
    const frame = Buffer.from(VECTORS[2]![4], 'hex');
    const found = findAttendanceFrame(advertisingData(frame));
    expect(found?.roomCode).toBe(ROOM);
    expect(found?.w).toBe(5890753);
    expect(findAttendanceFrame(advertisingData(frame, 0x004c))).toBeNull();
    // An iBeacon-like payload: Apple company id, not ours.
    expect(findAttendanceFrame(Buffer.from('0201061aff4c000215' + '00'.repeat(21), 'hex'))).toBeNull();
    expect(findAttendanceFrame(Buffer.from('05ff', 'hex'))).toBeNull();
  });
  it('builds a scan response within the 31-byte limit', () => {
    const sr = scanResponseData('Attendance room 101 with a very long name');
    expect(sr.length).toBeLessThanOrEqual(31);
    const ads = parseAdStructures(sr);
    expect(ads[0]!.type).toBe(0x07);
    expect(ads[0]!.data.equals(serviceUuidBytesLE())).toBe(true);
    expect(ads[1]!.type).toBe(0x09);
  });
});

describe('uuidv7', () => {
  it('is a version 7 UUID ordered by time', () => {
    const a = uuidv7(1000);
    const b = uuidv7(2000);
    expect(a).toMatch(UUIDV7_RE);
    expect(a < b).toBe(true);
  });
});
