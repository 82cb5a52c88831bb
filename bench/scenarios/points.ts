import { sql } from 'kysely';
import { bearerOf, json } from '../lib/context.ts';
import { okBoth, type Scenario, settled, statusCount } from './scenario.ts';

const users = 1_000;
const amount = 1000;

/** POST /v1/points/charges with a fresh Idempotency-Key per request: one wallet transaction each. */
export const charge: Scenario = {
  name: 'charge',
  about: `${users} users charge points, a fresh Idempotency-Key per request`,
  async run(ctx) {
    const people = await ctx.users('c', users);
    const body = JSON.stringify({ amount });
    const measured = await ctx.load(
      'charge',
      people.map(bearerOf),
      people.map((_, i) => ({
        method: 'POST',
        path: '/v1/points/charges',
        user: i,
        body,
        headers: { ...json, 'Idempotency-Key': `${ctx.runId}-c{n}` },
      })),
    );
    // One statement, one snapshot: ledger rows and wallet sum of this run's users.
    const mine = `${ctx.runId}c%`;
    const totals = await settled(async () => {
      const { rows } = await sql<{ charges: number; balance: number }>`select
          (select count(*) from point_ledger where user_id like ${mine}) as charges,
          (select coalesce(sum(balance), 0) from point_wallets where user_id like ${mine}) as balance`.execute(
        ctx.db,
      );
      return { charges: Number(rows[0]?.charges), balance: Number(rows[0]?.balance) };
    });
    const answered = okBoth(measured);
    const { charges, balance } = totals;
    // Requests still in flight when wrk stopped may have committed without wrk seeing the answer.
    const ok =
      balance === charges * amount &&
      charges >= answered &&
      charges - answered <= 2 * ctx.options.connections;
    return [
      {
        id: 'charge',
        title: 'charge points',
        variant: '',
        endpoint: 'POST /v1/points/charges',
        counted: { label: '201', count: statusCount(measured.run, 201) },
        measured,
        correctness: {
          ok,
          text: `${charges} ledger rows for ${answered} 201s seen; balances sum ${balance} = rows × ${amount}`,
        },
      },
    ];
  },
};
