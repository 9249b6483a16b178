/**
 * /readyz: ready only while the database answers a read and commits a write. A full disk or a
 * read-only database keeps answering reads, so a read alone would report ready while every
 * attendance submission fails.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createCloudHarness, type CloudHarness } from '../helpers/cloud.js';

let h: CloudHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/**
 * Every write now fails the way the database fails it. SQLite: `query_only` makes the
 * connection refuse every change with SQLITE_READONLY, as a read-only file does. PostgreSQL: the
 * shared test server cannot be filled or made read-only for one schema, so the probe row's table
 * raises SQLSTATE 53100 `disk_full`, the error a full disk gives.
 */
async function refuseWrites(harness: CloudHarness): Promise<void> {
  if (harness.store.dialect.kind === 'sqlite') {
    await sql`pragma query_only = 1`.execute(harness.store.db);
    return;
  }
  await sql`create function disk_full() returns trigger language plpgsql as $$ begin raise exception 'could not extend file: No space left on device' using errcode = '53100'; end $$`.execute(harness.store.db);
  await sql`create trigger readiness_disk_full before update on readiness_probe for each row execute function disk_full()`.execute(harness.store.db);
}

describe('/readyz', () => {
  it('reports ready when the database reads and writes', async () => {
    h = await createCloudHarness();
    const res = await h.http().get('/readyz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ready', checks: [{ name: 'database', ok: true }, { name: 'database_writes', ok: true }] });
  });

  it('readyz reports not ready when writes fail', async () => {
    h = await createCloudHarness();
    await refuseWrites(h);
    const res = await h.http().get('/readyz');
    expect(res.status).toBe(503);
    expect(res.body.status).toBe('not_ready');
    expect(res.body.checks).toEqual([
      { name: 'database', ok: true },
      { name: 'database_writes', ok: false, detail: 'database refuses writes (disk full or read-only?)' },
    ]);
  });
});
