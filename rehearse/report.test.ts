import { describe, expect, it } from 'vitest';
import type { Answer, Journey } from './fan.ts';
import { defaultMix, planFans } from './plan.ts';
import { consoleSummary, htmlReport, lineChart, summarise } from './report.ts';
import type { RunResult } from './run.ts';

const opensAt = Date.parse('2030-01-01T20:00:00Z');

/** A small opening written by hand: four fans, two seats; the figures below follow from it. */
function run(label: string, sales: Partial<RunResult['sales']> = {}): RunResult {
  const plans = planFans(
    5,
    { curve: 'uniform', beforeSeconds: 1, afterSeconds: 1, earlyShare: 0 },
    defaultMix,
    1,
  );
  const journey = (i: number, j: Partial<Journey>): Journey => ({
    index: i,
    userId: `f${i}`,
    plan: plans[i]!,
    outcome: 'unfinished',
    lostPayAnswers: 0,
    replayedPayments: 0,
    toppedUp: false,
    errors: {},
    ...j,
  });
  const journeys = [
    journey(0, {
      outcome: 'paid',
      arrivedAt: opensAt - 500,
      enteredAt: opensAt - 490,
      early: true,
      admittedAt: opensAt + 1000,
      serverAdmittedAt: opensAt + 900,
      heldAt: opensAt + 3000,
      paidAt: opensAt + 6000,
    }),
    journey(1, {
      outcome: 'paid',
      arrivedAt: opensAt + 100,
      enteredAt: opensAt + 110,
      early: false,
      admittedAt: opensAt + 2100,
      serverAdmittedAt: opensAt + 2000,
      heldAt: opensAt + 4100,
      paidAt: opensAt + 12_000,
    }),
    journey(2, {
      outcome: 'sold-out',
      arrivedAt: opensAt + 200,
      enteredAt: opensAt + 210,
      early: false,
      admittedAt: opensAt + 1600,
      serverAdmittedAt: opensAt + 1500,
    }),
    journey(3, { outcome: 'not-arrived' }),
    journey(4, { outcome: 'failed', failure: 'entering the line: 0 TIMEOUT', arrivedAt: opensAt + 300 }),
  ];
  const answer = (op: Answer['op'], sentAt: number, took: number, status: number, code?: string): Answer => ({
    op,
    sentAt: opensAt + sentAt,
    doneAt: opensAt + sentAt + took,
    status,
    ...(code ? { code } : {}),
  });
  const answers = [
    answer('hold', 2900, 100, 201),
    answer('hold', 4000, 100, 201),
    answer('hold', 4100, 300, 409, 'SEAT_TAKEN'),
    answer('pay', 5900, 100, 201),
    answer('pay', 11_000, 1000, 503, 'DEPENDENCY_UNAVAILABLE'),
    answer('pay', 11_800, 200, 201),
    answer('status', 1000, 50, 500, 'INTERNAL'),
    answer('status', 1000, 10_000, 0, 'TIMEOUT'),
  ];
  return {
    label,
    options: {
      fans: 4,
      seats: 2,
      price: 1000,
      seed: 1,
      arrival: { curve: 'uniform', beforeSeconds: 1, afterSeconds: 1, earlyShare: 0 },
      mix: defaultMix,
      durationSeconds: 60,
      requestTimeoutMs: 10_000,
      queue: { admitPerSecond: 5 },
    },
    concertId: '1',
    scheduleIds: ['1'],
    settings: { admitPerSecond: 5, maxActive: 500 },
    opensAt,
    endedAt: opensAt + 13_000,
    journeys,
    answers,
    samples: [
      {
        at: opensAt + 1000,
        waiting: 2,
        active: 1,
        admittedTotal: 1,
        admissionRatePerSecond: 1,
        admitPerSecond: 5,
      },
      {
        at: opensAt + 2000,
        waiting: 0,
        active: 3,
        admittedTotal: 3,
        admissionRatePerSecond: 2,
        admitPerSecond: 5,
      },
    ],
    sales: {
      paidFans: 2,
      confirmedByApi: 2,
      mismatchedFans: [],
      doubleSoldByApi: [],
      soldOnSeatMap: 2,
      heldOnSeatMap: 0,
      admittedByLine: 4,
      admittedFans: 4,
      ok: true,
      problems: [],
      ...sales,
    },
  };
}

describe('summarise', () => {
  it('derives the journeys, latencies, answers, fairness and series of a run', () => {
    const s = summarise(run('fixed'));
    expect(s.outcomes).toMatchObject({ paid: 2, 'sold-out': 1, 'not-arrived': 1, failed: 1 });
    expect(s.failures).toEqual([['entering the line: 0 TIMEOUT', 1]]);
    expect(s.sold).toBe(2);
    // Two seats in the twelve seconds from the opening to the last payment.
    expect(s.goodputPerMinute).toBe(10);
    expect(s.wait).toEqual({ count: 3, p50: 1500, p90: 2000, p99: 2000, max: 2000 });
    expect(s.timeToSeat).toEqual({ count: 2, p50: 3500, p90: 4000, p99: 4000, max: 4000 });
    expect(s.timeToPay.max).toBe(11_900);
    expect(s.holdLatency).toEqual({ count: 3, p50: 100, p90: 300, p99: 300, max: 300 });
    expect(s.payLatency.max).toBe(1000);
    expect(s.serverErrors).toBe(1);
    expect(s.unavailable).toBe(1);
    expect(s.noAnswer).toBe(1);
    expect(s.answers).toEqual({
      '201': 4,
      '409 SEAT_TAKEN': 1,
      '503 DEPENDENCY_UNAVAILABLE': 1,
      '500 INTERNAL': 1,
      '0 TIMEOUT': 1,
    });
    // Fan 2 (arrived after fan 1) was admitted before it; the early fan 0 went first.
    expect(s.fairness.fans).toBe(3);
    expect(s.fairness.overtakingShare).toBeCloseTo(1 / 3, 10);
    expect(s.fairness.kendallTau).toBeCloseTo(1 / 3, 10);
    expect(s.series.admissions).toEqual([
      { at: 0, count: 1, p50: null, p99: null },
      { at: 1, count: 1, p50: null, p99: null },
      { at: 2, count: 1, p50: null, p99: null },
    ]);
    expect(s.series.holds.map((b) => [b.at, b.count])).toEqual([
      [3, 1],
      [4, 2],
    ]);
    expect(s.series.line).toEqual([
      { at: 1, waiting: 2, active: 1 },
      { at: 2, waiting: 0, active: 3 },
    ]);
  });
});

describe('the printed summary', () => {
  it('puts the runs side by side and says when a sale was not exactly once', () => {
    const lines = consoleSummary([
      summarise(run('fixed')),
      summarise(run('adaptive', { ok: false, problems: ['1 seats confirmed to two fans'] })),
    ]);
    expect(lines[0]).toMatch(/fixed\s+│\s+adaptive/);
    expect(lines.find((l) => l.startsWith('sold exactly once'))).toMatch(
      /yes: 2 confirmed, 2 SOLD on the map\s+│\s+NO: 1 seats confirmed to two fans/,
    );
    expect(lines.find((l) => l.startsWith('5xx other than 503'))).toMatch(/1\s+│\s+1/);
    expect(lines.find((l) => l.startsWith('why fans failed'))).toContain('entering the line: 0 TIMEOUT (1)');
    expect(lines.find((l) => l.startsWith('fairness'))).toContain(
      "33.3% admitted before someone earlier; Kendall's tau 0.333 (3 admitted)",
    );
  });
});

describe('the HTML report', () => {
  it('is one self-contained page with the figures and a chart per measure, every run in each', () => {
    const html = htmlReport([summarise(run('fixed')), summarise(run('adaptive <x>'))], {
      command: 'npm run rehearse -- --fans 4',
      at: new Date(opensAt),
    });
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(html).not.toContain('<script');
    expect(html).toContain('npm run rehearse -- --fans 4');
    // Labels are escaped.
    expect(html).toContain('adaptive &lt;x&gt;');
    for (const title of [
      'Line length',
      'Admissions per second',
      'Holds and payments per second',
      'Hold latency',
      'Payment latency',
    ])
      expect(html).toContain(`<figcaption>${title}`);
    expect(html.match(/<svg /g)).toHaveLength(5);
    expect(html).toContain('<td>2 (10 per minute)</td>');
    expect(html).toContain('<th>503 DEPENDENCY_UNAVAILABLE</th><td>1</td><td>1</td>');
    expect(html).toContain('hold p99');
  });
});

describe('lineChart', () => {
  it('scales the points into the frame and marks the opening', () => {
    const svg = lineChart('Waiting', 'fans', [
      {
        name: 'waiting',
        colour: '#000',
        points: [
          [-2, 0],
          [8, 100],
        ],
      },
    ]);
    // x from −2 s to 8 s over 56..628, y from 0 to 100 over 188..28.
    expect(svg).toContain('points="56.0,188.0 628.0,28.0"');
    expect(svg).toContain('opensAt');
    expect(svg).toContain('>100</text>');
  });

  it('does not join points across a gap wider than the series allows, and dots a lone point', () => {
    const points: Array<[number, number]> = Array.from({ length: 70 }, (_, i) => [i, i]);
    points.push([80, 10]);
    const svg = lineChart('p99', 'ms', [{ name: 'p99', colour: '#000', gap: 1, points }]);
    expect(svg.match(/<polyline /g)).toHaveLength(2);
    expect(svg.match(/<circle /g)).toHaveLength(1);
  });
});
