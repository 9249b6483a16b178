/**
 * A OneRoster CSV bundle as files by name, from a zip (the upload) or a folder (the CLI). The zip
 * is read with limits, so a hostile upload cannot exhaust memory: at most MAX_ENTRIES entries, at
 * most MAX_UNCOMPRESSED bytes in all as the entries declare them (fflate inflates an entry into a
 * buffer of its declared size and no further), and no name that leaves the bundle (`..`, an
 * absolute path). Files may sit at the top of the zip or in one folder; only the OneRoster files
 * we read are unpacked, the others are skipped unread.
 */
import fs from 'node:fs';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { BundleError } from './errors.js';

export const MAX_ENTRIES = 64;
export const MAX_UNCOMPRESSED = 512 * 1024 * 1024;

/** The files of a bundle we read; the others (demographics, lineItems, …) are ignored. */
export const ONEROSTER_FILES = ['manifest.csv', 'academicSessions.csv', 'orgs.csv', 'users.csv', 'roles.csv', 'courses.csv', 'classes.csv', 'enrollments.csv'] as const;
export type OneRosterFile = (typeof ONEROSTER_FILES)[number];

export type BundleFiles = Map<OneRosterFile, string>;

const wanted = new Set<string>(ONEROSTER_FILES);

function isOutside(name: string): boolean {
  return name.startsWith('/') || name.startsWith('\\') || /^[A-Za-z]:/.test(name) || name.split(/[\\/]/).includes('..');
}

const decoder = new TextDecoder('utf-8', { fatal: true });

function decode(file: string, bytes: Uint8Array): string {
  try {
    return decoder.decode(bytes);
  } catch {
    throw new BundleError('not_utf8', `${file} is not UTF-8 text`);
  }
}

/** The bundle in a zip archive. */
export function readZipBundle(zip: Uint8Array): BundleFiles {
  if (zip.length < 4 || zip[0] !== 0x50 || zip[1] !== 0x4b) throw new BundleError('not_a_zip', 'the bundle is not a zip archive');
  let entries = 0;
  let declared = 0;
  const picked = new Map<string, string>();
  let unpacked: Record<string, Uint8Array>;
  try {
    unpacked = unzipSync(zip, {
      filter: (entry) => {
        if (++entries > MAX_ENTRIES) throw new BundleError('too_many_entries', `the zip holds more than ${MAX_ENTRIES} entries`);
        if (isOutside(entry.name)) throw new BundleError('unsafe_path', `the zip entry ${JSON.stringify(entry.name)} points outside the bundle`);
        const parts = entry.name.split('/');
        const base = parts.at(-1)!;
        if (parts.length > 2 || !wanted.has(base)) return false;
        declared += entry.originalSize;
        if (declared > MAX_UNCOMPRESSED) throw new BundleError('bundle_too_large', `the bundle unpacks to more than ${MAX_UNCOMPRESSED} bytes`);
        if (picked.has(base)) throw new BundleError('duplicate_file', `the zip holds ${base} twice`);
        picked.set(base, entry.name);
        return true;
      },
    });
  } catch (e) {
    if (e instanceof BundleError) throw e;
    throw new BundleError('not_a_zip', 'the bundle is not a readable zip archive');
  }
  const files: BundleFiles = new Map();
  for (const [base, name] of picked) files.set(base as OneRosterFile, decode(base, unpacked[name]!));
  return files;
}

/** The bundle in a folder (an unpacked export). */
export function readFolderBundle(dir: string): BundleFiles {
  const files: BundleFiles = new Map();
  for (const name of ONEROSTER_FILES) {
    const file = path.join(dir, name);
    if (fs.existsSync(file)) files.set(name, decode(name, fs.readFileSync(file)));
  }
  return files;
}
