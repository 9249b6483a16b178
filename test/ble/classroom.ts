/**
 * A classroom for the radio tests: the golden room of docs/protocol.md and the exact payload
 * its gateway must advertise in a window, computed with the shared protocol code.
 */
import { pino } from 'pino';
import { advertisingData, scanResponseData } from '../../shared/advertisement.js';
import { encodeFrame } from '../../shared/frame.js';
import { deriveSessionKey, tokenForWindow, windowIndex } from '../../shared/token.js';
import type { AdvertisingPayload } from '../../gateway/ble/advertiser.js';

export const ROOM_SECRET = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');
export const SESSION_ID = '0192f3a0-7c00-7000-8000-000000000001';
export const ROOM_CODE = 0x00012345;
export const LOCAL_NAME = 'ATT 101';
/** 2026-01-01T00:00:00Z, the first golden vector's time. */
export const SESSION_START_MS = 1767225600000;

export function windowsOfSession(periodS: number, count: number): number[] {
  const first = windowIndex(SESSION_START_MS, periodS);
  return Array.from({ length: count }, (_, i) => first + i);
}

export function payloadForWindow(w: number): AdvertisingPayload {
  const token = tokenForWindow(deriveSessionKey(ROOM_SECRET, SESSION_ID), w);
  return {
    advertisingData: advertisingData(encodeFrame({ roomCode: ROOM_CODE, w, token })),
    scanResponse: scanResponseData(LOCAL_NAME),
  };
}

export function testLogger(): pino.Logger {
  return pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
}
