import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chargePoints } from '../../functions/charge-points/use-cases.ts';
import { systemClock } from '../../shared/clock.ts';
import type { Database } from '../../shared/db/connect.ts';
import { ledgerSum, readBalance, walletStoreFor } from '../../shared/points/wallet-store.ts';
import { orThrow } from '../../shared/result.ts';
import { freshMysqlDatabase, uniqueSuffix } from '../support/real-services.ts';

describe('points under concurrency (MariaDB, 20 connections)', () => {
  let database: Database;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ database, drop } = await freshMysqlDatabase({ poolSize: 20 }));
  });
  afterAll(() => drop());

  it('parallel charges of one user sum exactly, with one ledger row each', async () => {
    const userId = `race${uniqueSuffix()}`;
    const amounts = Array.from({ length: 200 }, (_, i) => 1 + (i % 17) * 1000);
    const results = await Promise.all(
      amounts.map((amount, i) =>
        chargePoints(
          { wallets: walletStoreFor(database.db), clock: systemClock },
          { userId, amount, idempotencyKey: `k${i}` },
        ).then(orThrow),
      ),
    );
    const expected = amounts.reduce((a, b) => a + b, 0);
    expect(await readBalance(database.db, userId)).toBe(expected);
    expect(await ledgerSum(database.db, userId)).toBe(expected);
    // Each answer carries the balance right after its own charge: all distinct, the largest is the total.
    const balances = results.map((r) => r.body.balance);
    expect(new Set(balances).size).toBe(amounts.length);
    expect(Math.max(...balances)).toBe(expected);
  });

  it('one Idempotency-Key sent by many connections at once charges once', async () => {
    const userId = `dup${uniqueSuffix()}`;
    const results = await Promise.allSettled(
      Array.from({ length: 30 }, () =>
        chargePoints(
          { wallets: walletStoreFor(database.db), clock: systemClock },
          { userId, amount: 700, idempotencyKey: 'one' },
        ).then(orThrow),
      ),
    );
    const fulfilled = results.filter((r) => r.status === 'fulfilled');
    expect(fulfilled).toHaveLength(30);
    const chargeIds = new Set(fulfilled.map((r) => r.value.body.chargeId));
    expect(chargeIds.size).toBe(1);
    expect(fulfilled.filter((r) => !r.value.replayed)).toHaveLength(1);
    expect(await readBalance(database.db, userId)).toBe(700);
    expect(await ledgerSum(database.db, userId)).toBe(700);
  });
});
