import { baselinePathPrefix } from '../baseline/lock-hold.ts';
import { holdState } from '../lib/checks.ts';
import { accessHeaders, type BenchContext, json } from '../lib/context.ts';
import type { PlannedRequest } from '../lib/wrk.ts';
import {
  listSizeFor,
  okBoth,
  type Scenario,
  type ScenarioRow,
  sentOf,
  settled,
  statusCount,
} from './scenario.ts';

const holdUsers = 1_000;
const stampedeUsers = 1_000;
const stampedeSeats = 10;

const variants = [
  { variant: 'ours', path: '/v1/reservations', suffix: '' },
  { variant: 'baseline', path: `${baselinePathPrefix}/v1/reservations`, suffix: '-baseline' },
] as const;

/** Fresh seats in concerts of at most 100 schedules × 1000 seats (the admin API's limits). */
async function seatsFor(ctx: BenchContext, total: number) {
  const concerts = [];
  for (let left = total; left > 0; left -= 100_000) {
    concerts.push(await ctx.createConcert(Math.ceil(Math.min(left, 100_000) / 1000), 1000));
  }
  return concerts;
}

/** Runs of ours and the baseline, alternating: the target holds in each of them, not on average. */
const holdRounds = 5;

/**
 * Every request targets a seat nobody asked for: the cost of a won hold, ours vs the seed's lock, in
 * alternating runs (ours, baseline, baseline, ours, ours, …) so both see the same shared machine. The
 * seats of all runs are created up front and every run gets its own slice of them.
 */
export const holdUncontended: Scenario = {
  name: 'hold',
  about: `hold, uncontended: each request a new seat (${holdUsers} users), ours and the baseline alternating ${holdRounds} times`,
  async run(ctx) {
    // Whole schedules per run (1,000 seats each), so each run's check reads only its own seats.
    const perRun = Math.ceil(listSizeFor(ctx, 4_000) / 1000) * 1000;
    const users = await ctx.users('h', holdUsers);
    const concerts = await seatsFor(ctx, perRun * 2 * holdRounds);
    for (const c of concerts) await ctx.enterQueue(users, c.concertId);
    const seats = concerts.flatMap((c) => c.seats);
    // Access tokens are per concert: one header set per (concert, user), user index = concert × users + user.
    const headerSets = concerts.flatMap((c) => users.map((u) => accessHeaders(u, c.concertId)));
    const concertIndex = new Map(concerts.flatMap((c, ci) => c.scheduleIds.map((s) => [s, ci] as const)));
    const rows: ScenarioRow[] = [];
    let slice = 0;
    for (let round = 1; round <= holdRounds; round++) {
      // Ours first in odd runs, the baseline first in even ones: a machine getting busier or quieter over
      // the runs favours neither.
      const order = round % 2 === 1 ? variants : [...variants].reverse();
      for (const { variant, path, suffix } of order) {
        ctx.log(`  — run ${round}/${holdRounds}, ${variant}: POST ${path}`);
        const mine = seats.slice(slice * perRun, (slice + 1) * perRun);
        slice += 1;
        const requests = mine.map(
          (seat, i): PlannedRequest => ({
            method: 'POST',
            path,
            user: concertIndex.get(seat.scheduleId)! * users.length + (i % users.length),
            body: JSON.stringify({ scheduleId: String(seat.scheduleId), seatId: String(seat.id) }),
            headers: json,
          }),
        );
        const measured = await ctx.load(`hold${suffix}-${round}`, headerSets, requests);
        const state = await settled(() =>
          holdState(ctx.db, [...new Set(mine.map((seat) => seat.scheduleId))]),
        );
        const oversold = state.doubleBooked + state.unnamed;
        const attempted = sentOf(measured);
        const answered = okBoth(measured);
        rows.push({
          id: `hold${suffix}` as 'hold' | 'hold-baseline',
          title: 'hold, uncontended',
          variant,
          endpoint: `POST ${path}`,
          counted: { label: '201', count: statusCount(measured.run, 201) },
          measured,
          round: { index: round, of: holdRounds },
          correctness: {
            ok: oversold === 0 && state.phantom === 0,
            text:
              `oversold ${oversold}; ${state.live} holds won / ${attempted} seats tried ` +
              `(${answered} 201s seen), phantom ${state.phantom}` +
              (measured.run.repeated > 0
                ? `; list too short: ${measured.run.repeated} requests repeated`
                : ''),
          },
        });
      }
    }
    return rows;
  },
};

/** 1,000 users on 10 seats: after the first 10 wins everyone is a loser; how fast are losers answered? */
export const holdStampede: Scenario = {
  name: 'stampede',
  about: `hold stampede: ${stampedeUsers} users on ${stampedeSeats} seats, ours and the baseline`,
  async run(ctx) {
    const users = await ctx.users('t', stampedeUsers);
    const concert = await ctx.createConcert(2, stampedeSeats);
    await ctx.enterQueue(users, concert.concertId);
    const rows: ScenarioRow[] = [];
    for (const [index, { variant, path, suffix }] of variants.entries()) {
      ctx.log(`  — ${variant}: POST ${path}`);
      const scheduleId = concert.scheduleIds[index]!;
      const seats = concert.seats.filter((s) => s.scheduleId === scheduleId);
      const requests = users.map(
        (_, i): PlannedRequest => ({
          method: 'POST',
          path,
          user: i,
          body: JSON.stringify({
            scheduleId: String(scheduleId),
            seatId: String(seats[i % seats.length]!.id),
          }),
          headers: json,
        }),
      );
      const measured = await ctx.load(
        `stampede${suffix}`,
        users.map((u) => accessHeaders(u, concert.concertId)),
        requests,
      );
      const state = await settled(() => holdState(ctx.db, [scheduleId]));
      const oversold = state.doubleBooked + state.unnamed;
      const losers = measured.run.codes.SEAT_TAKEN ?? 0;
      rows.push({
        id: `stampede${suffix}` as 'stampede' | 'stampede-baseline',
        title: `stampede ${stampedeUsers}→${stampedeSeats} seats`,
        variant,
        endpoint: `POST ${path}`,
        counted: { label: '409 SEAT_TAKEN', count: losers },
        measured,
        correctness: {
          ok: oversold === 0 && state.phantom === 0 && state.live === seats.length,
          text:
            `oversold ${oversold}; ${state.live} holds won / ${seats.length} seats ` +
            `(${statusCount(measured.run, 201)} 201s incl. winners' repeats), phantom ${state.phantom}`,
        },
      });
    }
    return rows;
  },
};
