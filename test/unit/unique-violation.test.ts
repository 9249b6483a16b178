/**
 * isUniqueViolation against errors the real drivers throw: better-sqlite3 on a file-less
 * database, and pg on PostgreSQL when TEST_DATABASE_URL names one (npm run test:postgres).
 */
import { describe, expect, it } from 'vitest';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { isUniqueViolation } from '../../cloud/store/errors.js';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('isUniqueViolation', () => {
  it('recognises SQLite unique and primary-key violations, and nothing else', () => {
    const db = new SqliteDatabase(':memory:');
    db.pragma('foreign_keys = ON');
    db.exec('create table parent (id integer primary key, email text not null unique)');
    db.exec('create table child (parent_id integer not null references parent(id))');
    db.exec("insert into parent (id, email) values (1, 'a@x')");
    expect(isUniqueViolation(thrown(() => db.exec("insert into parent (id, email) values (2, 'a@x')")))).toBe(true);
    expect(isUniqueViolation(thrown(() => db.exec("insert into parent (id, email) values (1, 'b@x')")))).toBe(true);
    // Other constraint failures and errors are not unique violations.
    expect(isUniqueViolation(thrown(() => db.exec('insert into child (parent_id) values (99)')))).toBe(false);
    expect(isUniqueViolation(thrown(() => db.exec('insert into parent (id, email) values (3, null)')))).toBe(false);
    expect(isUniqueViolation(thrown(() => db.exec('select * from missing')))).toBe(false);
    expect(isUniqueViolation(new Error('UNIQUE constraint failed: parent.email'))).toBe(false);
    expect(isUniqueViolation(null)).toBe(false);
    db.close();
  });

  const pgUrl = process.env.TEST_DATABASE_URL;
  it.skipIf(!pgUrl)('recognises a PostgreSQL unique violation (23505), and nothing else', async () => {
    const client = new pg.Client({ connectionString: pgUrl });
    await client.connect();
    const rejection = (q: string) => client.query(q).then(() => { throw new Error(`expected ${q} to fail`); }, (e: unknown) => e);
    try {
      await client.query('create temporary table parent (id integer primary key, email text not null unique)');
      await client.query('create temporary table child (parent_id integer not null references parent(id))');
      await client.query("insert into parent (id, email) values (1, 'a@x')");
      expect(isUniqueViolation(await rejection("insert into parent (id, email) values (2, 'a@x')"))).toBe(true);
      expect(isUniqueViolation(await rejection("insert into parent (id, email) values (1, 'b@x')"))).toBe(true);
      expect(isUniqueViolation(await rejection('insert into child (parent_id) values (99)'))).toBe(false);
      expect(isUniqueViolation(await rejection('insert into parent (id, email) values (3, null)'))).toBe(false);
      expect(isUniqueViolation(await rejection('select * from missing'))).toBe(false);
    } finally {
      await client.end();
    }
  });
});
