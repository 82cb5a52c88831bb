import { sql } from 'kysely';
import { isUniqueViolation } from '../../shared/db/errors.ts';
import { outboxShards } from '../../shared/db/migrations/0002_outbox_shards.ts';
import { perDatabase, storedProcedure } from '../../shared/db/procedures.ts';
import { partitionFor } from '../../shared/events/bus.ts';
import type { ReservationRow } from './reservation-view.ts';

export interface HoldAttempt {
  userId: string;
  scheduleId: number;
  seatId: number;
  now: number;
  expiresAt: number;
}

/**
 * Holds an AVAILABLE seat in one round trip through the hold_available_seat procedure (migration 0003),
 * on MySQL. Null when the seat was not AVAILABLE, or where the procedure cannot run: the statement path
 * then decides. A duplicate on the live-reservation index (a lapsed hold not yet tidied) answers null
 * too: the statement path knows how to take that over.
 */
export const oneTripHoldFor = perDatabase((db) => {
  const procedure = storedProcedure(
    db,
    (a: HoldAttempt) =>
      // biome-ignore format: one argument per parameter of the procedure reads best on one line
      sql<{ reservation_id: number | null; price: number | null }>`call hold_available_seat(${a.userId}, ${a.scheduleId}, ${a.seatId}, ${a.now}, ${a.expiresAt}, ${new Date(a.expiresAt).toISOString()}, ${partitionFor(String(a.seatId), outboxShards)})`,
  );
  return {
    async hold(attempt: HoldAttempt): Promise<ReservationRow | null> {
      const row = await procedure.call(attempt).catch((error: unknown) => {
        if (isUniqueViolation(error)) return null;
        throw error;
      });
      if (!row || row.reservation_id === null || row.price === null) return null;
      return {
        id: Number(row.reservation_id),
        user_id: attempt.userId,
        schedule_id: attempt.scheduleId,
        seat_id: attempt.seatId,
        price: Number(row.price),
        status: 'HELD',
        expires_at: attempt.expiresAt,
      };
    },
  };
});
