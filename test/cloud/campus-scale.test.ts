/**
 * The campus benchmark (bench/campus.ts) at a twentieth of a university: two cloud instances as
 * child processes on one PostgreSQL schema and a Mosquitto of its own, 100 gateways, 50 sessions
 * started together through the teachers' API, 1,750 check-ins, one instance killed (SIGKILL)
 * halfway through them and started again. Needs PostgreSQL (`npm run test:postgres`): skipped on SQLite.
 */
import { describe, expect, it } from 'vitest';
import { runCampus, type CampusReport } from '../../bench/campus/run.js';

const POSTGRES = process.env.TEST_DATABASE_URL;

function outcomes(r: CampusReport, type: string): Record<string, number> {
  return r.requests.find((q) => q.type === type)?.outcomes ?? {};
}

describe.skipIf(!POSTGRES)('campus at scale 0.05 (skipped without TEST_DATABASE_URL: several instances on one database need PostgreSQL)', () => {
  it('a teaching hour on two instances with one killed halfway: every session starts and ends, every check-in is answered 200, nothing acknowledged is lost', async () => {
    const r = await runCampus({ scale: 0.05, postgresUrl: POSTGRES!, checkinSeconds: 6, heartbeatS: 2, kill: { restartAfterS: 2 } });
    expect(r.killed).toBe(true);
    expect(r.retried).toBeGreaterThan(0); // the balancer met the dead instance and moved on
    expect(Object.keys(outcomes(r, 'session start')).filter((k) => !k.startsWith('201 '))).toEqual([]);
    expect(outcomes(r, 'session start')).not.toHaveProperty('201 queued');
    expect(Object.keys(outcomes(r, 'session end')).filter((k) => !k.startsWith('200 '))).toEqual([]);
    // A request cut off by the kill goes to the other instance; if its first try had committed, the
    // retry is answered duplicate, still a 200.
    expect(Object.keys(outcomes(r, 'token submit')).filter((k) => !/^200 (accepted|duplicate)$/.test(k))).toEqual([]);
    expect(r.submissions).toMatchObject({ accepted: r.plan.checkins, lost: 0 });
    // Every gateway event the broker acknowledged is ingested, also those in flight to the killed instance.
    expect(r.events.acked).toBeGreaterThan(r.plan.sessions * 4);
    expect(r.events).toMatchObject({ lost: 0, ingested: r.events.acked });
    expect(r.brokerDrops).toBe(0);
  }, 120_000);
});
