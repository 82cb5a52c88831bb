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

/** Every request targets a seat nobody asked for: the cost of a won hold, ours vs the seed's lock. */
export const holdUncontended: Scenario = {
  name: 'hold',
  about: `hold, uncontended: each request a new seat (${holdUsers} users), ours and the baseline`,
  async run(ctx) {
    // Every request takes a seat nobody asked for: enough seats for the target rate (5,000/s).
    const uncontendedSeats = listSizeFor(ctx, 5_000);
    const users = await ctx.users('h', holdUsers);
    const rows: ScenarioRow[] = [];
    for (const { variant, path, suffix } of variants) {
      ctx.log(`  — ${variant}: POST ${path}`);
      const concerts = await seatsFor(ctx, uncontendedSeats);
      for (const c of concerts) await ctx.enterQueue(users, c.concertId);
      const seats = concerts.flatMap((c) => c.seats);
      // Access tokens are per concert: one header set per (concert, user), user index = concert × users + user.
      const headerSets = concerts.flatMap((c) => users.map((u) => accessHeaders(u, c.concertId)));
      const concertIndex = new Map(concerts.flatMap((c, ci) => c.scheduleIds.map((s) => [s, ci] as const)));
      const requests = seats.map(
        (seat, i): PlannedRequest => ({
          method: 'POST',
          path,
          user: concertIndex.get(seat.scheduleId)! * users.length + (i % users.length),
          body: JSON.stringify({ scheduleId: String(seat.scheduleId), seatId: String(seat.id) }),
          headers: json,
        }),
      );
      const measured = await ctx.load(`hold${suffix}`, headerSets, requests);
      const state = await settled(() =>
        holdState(
          ctx.db,
          concerts.flatMap((c) => c.scheduleIds),
        ),
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
        correctness: {
          ok: oversold === 0 && state.phantom === 0,
          text:
            `oversold ${oversold}; ${state.live} holds won / ${attempted} seats tried ` +
            `(${answered} 201s seen), phantom ${state.phantom}` +
            (measured.run.repeated > 0 ? `; list too short: ${measured.run.repeated} requests repeated` : ''),
        },
      });
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
