import { sql } from 'kysely';
import { accessHeaders, type BenchContext, json } from '../lib/context.ts';
import { listSizeFor, okBoth, type Scenario, settled, statusCount } from './scenario.ts';

const price = 1000;

/**
 * POST /v1/reservations/{id}/payments with a fresh Idempotency-Key, each on its own held reservation
 * whose owner's wallet holds exactly the price. Paying ends the payer's ACTIVE queue slot, so every
 * payment has a user of its own, who entered the queue over HTTP. The holds and wallets are written
 * straight into the database (what a hold and a charge leave behind), so setup takes seconds.
 */
export const pay: Scenario = {
  name: 'pay',
  about:
    'each payer pays its own held seat (queue entered over HTTP; holds and wallets set up in the database)',
  async run(ctx) {
    const payers = listSizeFor(ctx, 2_000);
    const users = await ctx.users('p', payers);
    const concert = await ctx.createConcert(Math.ceil(payers / 1000), 1000, price);
    await ctx.enterQueue(users, concert.concertId);
    const reservationOf = await holdAndCharge(
      ctx,
      users.map((u, i) => ({ userId: u.id, seat: concert.seats[i]! })),
    );

    const measured = await ctx.load(
      'pay',
      users.map((u) => accessHeaders(u, concert.concertId)),
      users.map((u, i) => {
        const id = reservationOf.get(u.id);
        return {
          method: 'POST',
          path: `/v1/reservations/${id}/payments`,
          user: i,
          body: '{}',
          headers: { ...json, 'Idempotency-Key': `${ctx.runId}-pay-${id}` },
        };
      }),
    );

    // One statement, one snapshot, once the payments still in flight when wrk stopped have finished.
    const mine = `${ctx.runId}p%`;
    const state = await settled(async () => {
      const { rows } = await sql<Record<'payments' | 'paid' | 'sold' | 'balance' | 'lowest', number>>`select
          (select count(*) from payments where user_id like ${mine}) as payments,
          (select count(distinct reservation_id) from payments where user_id like ${mine}) as paid,
          (select count(*) from seats where schedule_id in (${sql.join(concert.scheduleIds)})
             and status = 'SOLD') as sold,
          (select coalesce(sum(balance), 0) from point_wallets where user_id like ${mine}) as balance,
          (select coalesce(min(balance), 0) from point_wallets where user_id like ${mine}) as lowest`.execute(
        ctx.db,
      );
      const row = rows[0]!;
      return {
        payments: Number(row.payments),
        paid: Number(row.paid),
        sold: Number(row.sold),
        balance: Number(row.balance),
        lowest: Number(row.lowest),
      };
    });
    const { payments } = state;
    const answered = okBoth(measured);
    const ok =
      payments === state.paid &&
      payments === state.sold &&
      state.balance === (payers - payments) * price &&
      state.lowest >= 0 &&
      payments >= answered &&
      payments - answered <= 2 * ctx.options.connections;
    return [
      {
        id: 'pay',
        title: 'pay',
        variant: '',
        endpoint: 'POST /v1/reservations/{id}/payments',
        counted: { label: '201', count: statusCount(measured.run, 201) },
        measured,
        correctness: {
          ok,
          text:
            `${payments} payments (${answered} 201s seen), ${state.sold} seats SOLD, ` +
            `wallets sum ${state.balance} = unpaid × price` +
            (measured.run.repeated > 0 ? `; list too short: ${measured.run.repeated} requests repeated` : ''),
        },
      },
    ];
  },
};

/** Per payer: a live HELD reservation its seat names, and a wallet (with its ledger row) of exactly the price. */
async function holdAndCharge(
  ctx: BenchContext,
  holds: Array<{ userId: string; seat: { id: number; scheduleId: number } }>,
): Promise<Map<string, number>> {
  const started = Date.now();
  const now = Date.now();
  const expiresAt = now + 15 * 60_000;
  for (let i = 0; i < holds.length; i += 1000) {
    const batch = holds.slice(i, i + 1000);
    await ctx.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('reservations')
        .values(
          batch.map((h) => ({
            user_id: h.userId,
            schedule_id: h.seat.scheduleId,
            seat_id: h.seat.id,
            price,
            status: 'HELD' as const,
            expires_at: expiresAt,
            created_at: now,
            updated_at: now,
          })),
        )
        .execute();
      await trx
        .insertInto('point_wallets')
        .values(batch.map((h) => ({ user_id: h.userId, balance: price, updated_at: now })))
        .execute();
      await trx
        .insertInto('point_ledger')
        .values(
          batch.map((h) => ({
            user_id: h.userId,
            type: 'CHARGE' as const,
            amount: price,
            balance_after: price,
            created_at: now,
          })),
        )
        .execute();
      await sql`update seats s join reservations r on r.seat_id = s.id and r.status = 'HELD'
        set s.status = 'HELD', s.held_by = r.user_id, s.hold_expires_at = r.expires_at,
            s.reservation_id = r.id, s.updated_at = ${now}
        where s.id in (${sql.join(batch.map((h) => h.seat.id))})`.execute(trx);
    });
  }
  const rows = await ctx.db
    .selectFrom('reservations')
    .select(['id', 'user_id'])
    .where('user_id', 'like', `${ctx.runId}p%`)
    .where('status', '=', 'HELD')
    .execute();
  ctx.log(`  ${holds.length} holds and charged wallets written in ${Date.now() - started} ms`);
  return new Map(rows.map((r) => [r.user_id, Number(r.id)]));
}
