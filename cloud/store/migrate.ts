/** Runs the schema migrations at start; each migration receives the dialect helpers. */
import { Migrator, sql, type Migration, type MigrationProvider } from 'kysely';
import type { Store } from './db.js';
import * as core from './migrations/001_core.js';
import * as gateways from './migrations/002_gateways.js';
import * as webauthn from './migrations/003_webauthn.js';
import * as dropTokenLog from './migrations/004_drop_token_log.js';
import * as emailVerification from './migrations/005_email_verification.js';
import * as accountTokens from './migrations/006_account_tokens.js';
import * as readinessProbe from './migrations/007_readiness_probe.js';
import * as institutionIdentity from './migrations/008_institution_identity.js';
import * as oidcSignIn from './migrations/009_oidc_sign_in.js';
import * as accountErasures from './migrations/011_account_erasures.js';
import * as oneRoster from './migrations/010_oneroster.js';
import * as proximity from './migrations/012_proximity.js';
import * as absenceWarnings from './migrations/013_absence_warnings.js';

type DialectMigration = { up: typeof core.up; down: typeof core.down };

/** Ordered by name; a new migration takes the next number. */
const MIGRATIONS: Record<string, DialectMigration> = {
  '001_core': core,
  '002_gateways': gateways,
  '003_webauthn': webauthn,
  '004_drop_token_log': dropTokenLog,
  '005_email_verification': emailVerification,
  '006_account_tokens': accountTokens,
  '007_readiness_probe': readinessProbe,
  '008_institution_identity': institutionIdentity,
  '009_oidc_sign_in': oidcSignIn,
  '010_oneroster': oneRoster,
  '011_account_erasures': accountErasures,
  '012_proximity': proximity,
  '013_absence_warnings': absenceWarnings,
};

export async function migrateToLatest(store: Store): Promise<string[]> {
  const provider: MigrationProvider = {
    getMigrations: async () =>
      Object.fromEntries(
        Object.entries(MIGRATIONS).map(([name, m]): [string, Migration] => [
          name,
          { up: (db) => m.up(db, store.dialect), down: (db) => m.down(db) },
        ]),
      ),
  };
  // Migrations written side by side may reach a database in another order than their names (a
  // pre-release build applied 006 and 007 before 005 existed): the missing ones run, in name order.
  // On PostgreSQL the migration tables live in the connection's own schema: unqualified, Kysely
  // looks for them in every schema, and another schema's tables (a second installation, a test
  // schema) would make it skip creating its own.
  const migrationTableSchema = store.dialect.kind === 'postgres' ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(store.db)).rows[0]?.schema : undefined;
  const migrator = new Migrator({ db: store.db, provider, allowUnorderedMigrations: true, ...(migrationTableSchema ? { migrationTableSchema } : {}) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
