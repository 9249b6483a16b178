/**
 * Reading QR codes back in the tests with the `qr` package's decoder: a symbol as SVG path data
 * (the provisioning answer's `provisioning_qr`) drawn into a bitmap, or the pixels of an image as
 * the browser rendered it.
 */
import { decodeQR } from 'qr/decode.js';

/** Decodes RGBA pixels (a canvas's ImageData). */
export function decodeRgba(width: number, height: number, data: Uint8Array | Uint8ClampedArray): string {
  return decodeQR({ width, height, data }, { format: 'RGBA' });
}

/**
 * Draws path data made of `M x y h w v1 h-w z` rectangles (modules) on white at `scale` pixels
 * per module and decodes the result. Any other path command fails the test's decode.
 */
export function decodeQrPath(qr: { size: number; path: string }, scale = 4): string {
  const side = qr.size * scale;
  const data = new Uint8Array(side * side * 4).fill(255);
  const runs = [...qr.path.matchAll(/M(\d+) (\d+)h(\d+)v1h-(\d+)z/g)];
  if (runs.map((m) => m[0]).join('') !== qr.path) throw new Error('the path holds more than module rectangles');
  for (const [, xs, ys, ws] of runs) {
    const [x, y, w] = [Number(xs), Number(ys), Number(ws)];
    for (let py = y * scale; py < (y + 1) * scale; py++) {
      for (let px = x * scale; px < (x + w) * scale; px++) data.fill(0, (py * side + px) * 4, (py * side + px) * 4 + 3);
    }
  }
  return decodeRgba(side, side, data);
}
