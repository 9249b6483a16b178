/**
 * OneRoster import of a faculty of realistic size:
 * `node --import tsx bench/oneroster.ts [--database postgres://…]`.
 *
 * The bundle (test/helpers/oneroster-bundle.ts, the generator of the import tests): 9,600
 * students and 400 teachers (10,000 users), 400 classes in two semesters, each with its primary
 * teacher, and 24,000 student enrolments. It is zipped and posted to the real route
 * `POST /api/v1/admin/imports/oneroster` of a cloud composed as the process composes itself
 * (`composeCloud`, through the test harness; supertest, no port): a dry run first, then the
 * import, then the same bundle again, which must change nothing. SQLite by default (a fresh file);
 * with `--database` a fresh PostgreSQL schema, dropped at the end.
 */
import { createCloudHarness } from '../test/helpers/cloud.js';
import { generateBundle, zipBundle } from '../test/helpers/oneroster-bundle.js';

const SIZE = { students: 9_600, teachers: 400, classes: 400, classesPerStudent: 2.5 };

const dbArg = process.argv.indexOf('--database');
const database = dbArg > 0 ? process.argv[dbArg + 1] : undefined;
if (dbArg > 0 && !database?.startsWith('postgres')) throw new Error('--database takes a postgres:// URL');
// The harness gives each cloud a schema of its own on TEST_DATABASE_URL and drops it on close.
if (database) process.env.TEST_DATABASE_URL = database;
else delete process.env.TEST_DATABASE_URL;

interface Answer {
  created: number;
  updated: number;
  unchanged: number;
  deleted: number;
  rejected: unknown[];
}

async function main(): Promise<void> {
  let t0 = Date.now();
  const bundle = generateBundle(SIZE);
  const zip = zipBundle(bundle);
  const unpacked = Object.values(bundle).reduce((n, text) => n + Buffer.byteLength(text), 0);
  const rows = (file: string) => bundle[file]!.split('\r\n').length - 2;
  console.log(`bundle: ${rows('users.csv')} users, ${rows('classes.csv')} classes, ${rows('enrollments.csv')} enrolment rows; ${(zip.length / 1e6).toFixed(2)} MB zipped, ${(unpacked / 1e6).toFixed(2)} MB unpacked (built in ${Date.now() - t0} ms)`);
  console.log(`database: ${database ? 'PostgreSQL (a fresh schema)' : 'SQLite (a fresh file)'}\n`);

  const h = await createCloudHarness();
  try {
    const admin = await h.user('admin');
    const idle = process.memoryUsage().rss;
    const post = async (label: string, query = ''): Promise<Answer> => {
      t0 = Date.now();
      const res = await h.http().post(`/api/v1/admin/imports/oneroster${query}`).set(admin.auth).set('Content-Type', 'application/zip').send(zip);
      const ms = Date.now() - t0;
      if (res.status !== 200) throw new Error(`${label}: ${res.status} ${JSON.stringify(res.body)}`);
      const a = res.body as Answer;
      console.log(`${label.padEnd(10)} ${(ms / 1000).toFixed(2).padStart(6)} s   created ${a.created}, updated ${a.updated}, unchanged ${a.unchanged}, deleted ${a.deleted}, rejected ${a.rejected.length}`);
      return a;
    };
    await post('dry run', '?dry_run=true');
    const first = await post('import');
    const again = await post('re-import');
    if (first.rejected.length || again.created || again.updated || again.deleted) throw new Error('the re-import changed something, or rows were rejected');
    console.log(`\npeak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB (${(idle / 1e6).toFixed(0)} MB before the first import)`);
  } finally {
    await h.close();
  }
}

await main();
