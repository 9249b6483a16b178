/**
 * The 17-byte advertisement frame — docs/protocol.md §Frame (contract):
 *   version(1)=0x01 | room_code(4, BE) | w(4, BE) | token(8)
 */
import { TOKEN_BYTES } from './token.js';

export const FRAME_VERSION = 0x01;
export const FRAME_BYTES = 17;

export interface Frame {
  roomCode: number;
  /** The window index w (docs/protocol.md). */
  w: number;
  token: Buffer;
}

export class FrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FrameError';
  }
}

function assertUint32(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new FrameError(`${name} must be a uint32, got ${value}`);
  }
}

export function encodeFrame(frame: Frame): Buffer {
  assertUint32('room_code', frame.roomCode);
  assertUint32('window', frame.w);
  if (frame.token.length !== TOKEN_BYTES) throw new FrameError(`token must be ${TOKEN_BYTES} bytes, got ${frame.token.length}`);
  const out = Buffer.alloc(FRAME_BYTES);
  out[0] = FRAME_VERSION;
  out.writeUInt32BE(frame.roomCode, 1);
  out.writeUInt32BE(frame.w, 5);
  Buffer.from(frame.token).copy(out, 9);
  return out;
}

export function decodeFrame(bytes: Uint8Array): Frame {
  if (bytes.length !== FRAME_BYTES) throw new FrameError(`frame must be ${FRAME_BYTES} bytes, got ${bytes.length}`);
  const buf = Buffer.from(bytes);
  if (buf[0] !== FRAME_VERSION) throw new FrameError(`unsupported frame version 0x${buf[0]!.toString(16).padStart(2, '0')}`);
  return { roomCode: buf.readUInt32BE(1), w: buf.readUInt32BE(5), token: Buffer.from(buf.subarray(9, 17)) };
}

const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;

/** Parses a hex string of exactly `bytes` bytes; throws FrameError naming the field otherwise. */
export function parseHex(field: string, hex: string, bytes: number): Buffer {
  if (hex.length !== bytes * 2 || !HEX_RE.test(hex)) {
    throw new FrameError(`${field} must be ${bytes * 2} hex characters`);
  }
  return Buffer.from(hex, 'hex');
}

export function decodeFrameHex(hex: string): Frame {
  return decodeFrame(parseHex('frame', hex, FRAME_BYTES));
}
