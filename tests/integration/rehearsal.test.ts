import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { summarise } from '../../rehearse/report.ts';
import { type OpeningOptions, type RunResult, rehearseOpening } from '../../rehearse/run.ts';
import { createUserTokens } from '../../shared/auth/user-tokens.ts';
import { type LaunchedProcess, launchProcess } from '../support/server-process.ts';

/**
 * A small opening, end to end: the all-in-one server as `npm start` runs it (embedded adapters, its own
 * process, its default rate limits) and a few hundred fans on the public API. Every outcome is exact:
 * who bought what follows from the seats and the fans' behaviour, not from timing.
 */

const secret = randomBytes(32).toString('hex');
const tokens = createUserTokens({ secret, issuer: 'concert-auth', audience: 'concert-api' });
let server: LaunchedProcess;

const options: OpeningOptions = {
  fans: 300,
  seats: 30,
  price: 50_000,
  seed: 16,
  arrival: { curve: 'spike', beforeSeconds: 2, afterSeconds: 4, earlyShare: 0.3 },
  mix: {
    sse: 0.5,
    shortOfPoints: 0.3,
    abandonAtSeatMap: 0.1,
    // Holds left unpaid would keep seats out of the sale for the hold's five minutes.
    abandonAtPayment: 0,
    retryPay: 0.3,
    hotSection: 0.8,
  },
  durationSeconds: 45,
  // Every fan comes to the end of the line, so the line's count of admissions can be checked exactly.
  everyFan: true,
  requestTimeoutMs: 10_000,
  // Fans who found the hall sold out keep their slot until it lapses: maxActive stays above the crowd.
  queue: { admitPerSecond: 100, maxActive: 400 },
};

beforeAll(async () => {
  server = await launchProcess(['server/main.ts'], {
    DATA_DIR: mkdtempSync(join(tmpdir(), 'concert-rehearsal-')),
    AUTH_JWT_SECRET: secret,
    QUEUE_TOKEN_SECRET: randomBytes(32).toString('hex'),
    DEV_AUTH: '1',
    SEED_DEMO: '0',
  });
  await server.healthy(30_000);
});

afterAll(async () => {
  server?.kill('SIGTERM');
  await server?.exited(15_000);
});

describe('a rehearsed opening on the embedded adapters', () => {
  let run: RunResult;
  const lines: string[] = [];

  beforeAll(async () => {
    run = await rehearseOpening(
      { url: server.url, token: (id, role) => tokens.sign({ id, role }) },
      options,
      'fixed',
      (line) => lines.push(line),
    );
  }, 90_000);

  it('every fan finishes: bought, found the hall sold out, or left at the seat map as planned', () => {
    const outcomes = run.journeys.map((j) => j.outcome);
    expect(outcomes.filter((o) => !['paid', 'sold-out', 'left-at-seat-map'].includes(o))).toEqual([]);
    for (const j of run.journeys)
      expect(j.outcome === 'left-at-seat-map').toBe(j.plan.abandon === 'seat-map');
  });

  it('sells every seat once while buyers remain: sold = min(seats, fans who pay)', () => {
    const buyers = run.journeys.filter((j) => j.plan.abandon === 'none').length;
    const paid = run.journeys.filter((j) => j.outcome === 'paid');
    expect(paid).toHaveLength(Math.min(options.seats, buyers));
    expect(new Set(paid.map((j) => j.seatId)).size).toBe(paid.length);
    expect(run.sales.problems).toEqual([]);
    expect(run.sales.doubleSoldByApi).toEqual([]);
    expect(run.sales.soldOnSeatMap).toBe(paid.length);
    expect(run.sales.heldOnSeatMap).toBe(0);
  });

  it('every paid fan holds exactly one confirmed reservation, and nobody else holds one', () => {
    expect(run.sales.mismatchedFans).toEqual([]);
    expect(run.sales.confirmedByApi).toBe(run.sales.paidFans);
  });

  it('admits no fan twice: the line counts exactly the admissions the fans saw', () => {
    expect(run.sales.admittedByLine).toBe(run.sales.admittedFans);
    expect(run.sales.admittedFans).toBe(options.fans + 1);
  });

  it('short wallets were topped up and lost payment answers replayed with the same key', () => {
    for (const j of run.journeys.filter((x) => x.outcome === 'paid')) {
      expect(j.toppedUp).toBe(j.plan.shortOfPoints);
      expect(j.replayedPayments).toBe(j.plan.retryPay ? 1 : 0);
    }
  });

  it('answers no 5xx, and the report carries the run', () => {
    const summary = summarise(run);
    expect(summary.serverErrors).toBe(0);
    expect(summary.unavailable).toBe(0);
    expect(summary.sold).toBe(run.sales.paidFans);
    expect(summary.fairness.fans).toBe(options.fans);
    expect(
      lines.some((l) => /waiting \d+ {2}active \d+ {2}admitted \d+ {2}sold \d+ {2}errors 0/.test(l)),
    ).toBe(true);
  });
});
