/**
 * The QR code of a provisioning answer: the command the installer runs on the gateway, as the
 * dark modules of a QR symbol (with its 4-module quiet zone) in SVG path data, so a page can draw
 * it as an <svg> with no markup from the server and no script from elsewhere.
 */
import { encodeQR } from 'qr';

export interface ProvisioningQr {
  /** What the symbol encodes. */
  text: string;
  /** Modules along each side, quiet zone included: the SVG's viewBox is `0 0 size size`. */
  size: number;
  /** The dark modules as SVG path data, one rectangle per horizontal run. */
  path: string;
}

/** The command `attendance-gateway provision` with the cloud's address and the one-time code. */
export function provisionCommand(cloudUrl: string, code: string): string {
  return `attendance-gateway provision --cloud ${cloudUrl} --code ${code}`;
}

export function provisioningQr(text: string): ProvisioningQr {
  const rows = encodeQR(text, 'raw', { border: 4, ecc: 'medium' });
  const parts: string[] = [];
  rows.forEach((row, y) => {
    for (let x = 0; x < row.length; ) {
      if (!row[x]) {
        x++;
        continue;
      }
      let end = x;
      while (end < row.length && row[end]) end++;
      parts.push(`M${x} ${y}h${end - x}v1h-${end - x}z`);
      x = end;
    }
  });
  return { text, size: rows.length, path: parts.join('') };
}
