/**
 * Imports a OneRoster bundle: parse and check it whole, read what it may match, plan, and write
 * everything in one transaction with its audit entry, or (dry run) nothing. The events that tell
 * caches about revoked accounts and changed enrolments are emitted after the commit.
 */
import { randomBytes } from 'node:crypto';
import { hashPassword } from '../../auth/passwords.js';
import type { CloudEvents } from '../../events.js';
import type { Store } from '../../store/db.js';
import type { BundleFiles, OneRosterFile } from './bundle.js';
import { BundleError } from './errors.js';
import { parseBundle, type FileMode, type Rejection } from './parse.js';
import { planImport, type Kind, type KindCounts } from './plan.js';

export interface ImportResult {
  dry_run: boolean;
  created: number;
  updated: number;
  unchanged: number;
  deleted: number;
  by_kind: Record<Kind, KindCounts>;
  files: Array<{ file: string; mode: FileMode; rows: number }>;
  rejected: Rejection[];
}

export interface ImportOptions {
  dryRun: boolean;
  actorId: string | null;
  now: number;
  events?: CloudEvents;
  /** Called once per file read, with its rows (the CLI's progress line). */
  onProgress?: (file: OneRosterFile, rows: number) => void;
}

const total = (counts: Record<Kind, KindCounts>, k: keyof KindCounts) => Object.values(counts).reduce((n, c) => n + c[k], 0);

export async function importOneRoster(store: Store, files: BundleFiles, opts: ImportOptions): Promise<ImportResult> {
  const parsed = parseBundle(files);
  for (const [file, rows] of Object.entries(parsed.rows)) opts.onProgress?.(file as OneRosterFile, rows);
  const unusableHash = await hashPassword(randomBytes(32).toString('base64url'));
  const emails = parsed.users.filter((u) => !u.deleted).map((u) => u.email);
  const plan = await store.transaction(async (tx) => {
    const p = planImport(parsed, await tx.oneRoster.snapshot(emails), opts.now, unusableHash);
    if (opts.dryRun) return p;
    const hadAdmin = await tx.oneRoster.hasActiveAdmin();
    await tx.oneRoster.write(p.writes);
    // The roster may not take away the last active admin (as no role change may).
    if (hadAdmin && !(await tx.oneRoster.hasActiveAdmin())) throw new BundleError('last_admin', 'the import would leave no active admin account');
    await tx.audit.record({
      at: opts.now, actorId: opts.actorId, action: 'roster.import', target: 'oneroster',
      details: { created: total(p.counts, 'created'), updated: total(p.counts, 'updated'), deleted: total(p.counts, 'deleted'), rejected: p.rejected.length, modes: parsed.modes },
    });
    return p;
  });
  if (!opts.dryRun) {
    for (const id of plan.revokedAccounts) opts.events?.emit('account.tokens_revoked', { user_id: id });
    for (const id of plan.changedCourses) opts.events?.emit('enrollment.changed', { course_id: id });
  }
  return {
    dry_run: opts.dryRun,
    created: total(plan.counts, 'created'),
    updated: total(plan.counts, 'updated'),
    unchanged: total(plan.counts, 'unchanged'),
    deleted: total(plan.counts, 'deleted'),
    by_kind: plan.counts,
    files: Object.entries(parsed.modes).filter(([, m]) => m !== 'absent').map(([file, mode]) => ({ file, mode: mode!, rows: parsed.rows[file as OneRosterFile] ?? 0 })),
    rejected: plan.rejected,
  };
}
