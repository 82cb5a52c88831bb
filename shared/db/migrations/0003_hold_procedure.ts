import { sql } from 'kysely';
import { storedProcedureMigration } from './stored-procedure.ts';

/**
 * MySQL only: the hold of an AVAILABLE seat as one stored procedure, so the common case costs one round
 * trip instead of a transaction of six statements (the bench profile showed a hold's server CPU going to MySQL
 * round trips: ADR 5). It is the same conditional write as the code path in functions/hold-seat/hold-seat.ts:
 * the UPDATE's affected-row count decides, and the reservation, the seat's link to it and the
 * reservation.created outbox row commit with it or not at all. It never takes over a lapsed hold; that
 * rarer case, and every refusal, goes through the code path, which explains why.
 *
 * Answers one row: the new reservation id and price, or NULLs when the seat was not AVAILABLE.
 */
const createHoldProcedure = sql`
create procedure hold_available_seat(
  in p_user varchar(64), in p_schedule bigint, in p_seat bigint,
  in p_now bigint, in p_expires bigint, in p_expires_iso varchar(32), in p_shard integer)
begin
  declare v_reservation bigint default null;
  declare v_price bigint default null;
  declare exit handler for sqlexception
  begin
    rollback;
    resignal;
  end;
  start transaction;
  update seats
     set status = 'HELD', held_by = p_user, hold_expires_at = p_expires, updated_at = p_now
   where id = p_seat and schedule_id = p_schedule and status = 'AVAILABLE';
  if row_count() = 1 then
    select price into v_price from seats where id = p_seat;
    insert into reservations (user_id, schedule_id, seat_id, price, status, expires_at, created_at, updated_at)
    values (p_user, p_schedule, p_seat, v_price, 'HELD', p_expires, p_now, p_now);
    set v_reservation = last_insert_id();
    update seats set reservation_id = v_reservation where id = p_seat;
    insert ignore into outbox (event_id, topic, event_key, type, payload, created_at, sent_at, shard)
    values (
      concat('reservation.created:', v_reservation), 'reservation.created', cast(p_seat as char),
      'reservation.created',
      json_object(
        'reservationId', cast(v_reservation as char), 'scheduleId', cast(p_schedule as char),
        'seatId', cast(p_seat as char), 'userId', p_user, 'price', cast(v_price as signed),
        'expiresAt', p_expires_iso),
      p_now, null, p_shard);
    commit;
  else
    rollback;
  end if;
  select v_reservation as reservation_id, v_price as price;
end`;

export const { up, down } = storedProcedureMigration('hold_available_seat', createHoldProcedure);
