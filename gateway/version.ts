/** The package version, reported in status and heartbeats so the cloud sees what each room runs. */
import { readFileSync } from 'node:fs';

function readVersion(): string {
  // gateway/version.ts runs from the source tree (tsx) or from dist/gateway/: try both depths.
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'classroom-attendance' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // try the next location
    }
  }
  return '0.0.0';
}

export const GATEWAY_VERSION = readVersion();
