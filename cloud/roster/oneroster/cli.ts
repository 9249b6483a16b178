/**
 * `attendance-cloud import-oneroster <zip or folder> [--dry-run]`: the same import as the API,
 * against the database of the configuration (DATABASE_URL / ATTENDANCE_DATA_DIR). A progress line
 * per file on stderr, the answer as JSON on stdout. Exit codes: 0 done, 2 usage, 65 bundle
 * refused (EX_DATAERR), 66 no such file (EX_NOINPUT), 78 bad configuration.
 */
import fs from 'node:fs';
import { EXIT_CONFIG } from '../../../shared/exit-codes.js';
import { ConfigError, loadCloudConfig } from '../../config.js';
import { openStore } from '../../store/db.js';
import { migrateToLatest } from '../../store/migrate.js';
import { readFolderBundle, readZipBundle } from './bundle.js';
import { BundleError } from './errors.js';
import { importOneRoster } from './import.js';

export const IMPORT_USAGE = 'usage: attendance-cloud import-oneroster <bundle.zip | folder> [--dry-run]';

export async function importOneRosterCommand(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const dryRun = args.includes('--dry-run');
  const paths = args.filter((a) => a !== '--dry-run');
  if (paths.length !== 1 || paths[0]!.startsWith('-')) {
    console.error(IMPORT_USAGE);
    return 2;
  }
  const source = paths[0]!;
  if (!fs.existsSync(source)) {
    console.error(`attendance-cloud: no such file or folder: ${source}`);
    return 66;
  }
  let config;
  try {
    config = loadCloudConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`attendance-cloud: refusing to start, ${e.message}`);
      return EXIT_CONFIG;
    }
    throw e;
  }
  const store = openStore(config.databaseUrl);
  try {
    await migrateToLatest(store);
    const files = fs.statSync(source).isDirectory() ? readFolderBundle(source) : readZipBundle(fs.readFileSync(source));
    const started = Date.now();
    const result = await importOneRoster(store, files, {
      dryRun,
      actorId: null,
      now: Date.now(),
      onProgress: (file, rows) => console.error(`${file}: ${rows} rows read`),
    });
    console.error(`${dryRun ? 'dry run, nothing written: ' : ''}${result.created} created, ${result.updated} updated, ${result.unchanged} unchanged, ${result.deleted} deleted, ${result.rejected.length} rejected (${Date.now() - started} ms)`);
    console.log(JSON.stringify(result, null, 2));
    return 0;
  } catch (e) {
    if (e instanceof BundleError) {
      console.error(`attendance-cloud: bundle refused (${e.code}): ${e.message}`);
      return 65;
    }
    throw e;
  } finally {
    await store.close();
  }
}
