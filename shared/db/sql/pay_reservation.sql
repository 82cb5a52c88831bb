-- A payment as one transaction and one round trip (MySQL/MariaDB), step for step what the SQLite store
-- does (shared/seats/sqlite-seat-store.ts): the idempotency record first (a concurrent duplicate blocks on
-- its key, then fails with a duplicate the caller turns into a replay), the seat HELD→SOLD only while
-- this reservation's hold is live, the reservation HELD→CONFIRMED, the debit only if the balance covers
-- the price, the ledger, payment and outbox rows, and the stored answer. Any refusal rolls everything back.
--
-- The event row and the stored answer are built here, as shared/seats/seat-events.ts builds them on
-- SQLite, byte for byte: tests/integration/stored-procedures.test.ts holds the two to that.
--
-- Answers one row: outcome (PAID or why not), the answer body (JSON) when PAID, the price.
create procedure pay_reservation(
  in p_user varchar(64), in p_reservation bigint, in p_key varchar(64), in p_hash char(64),
  in p_now bigint, in p_shard integer)
begin
  declare v_outcome varchar(32) default 'PAID';
  declare v_owner varchar(64) default null;
  declare v_schedule bigint;
  declare v_seat bigint;
  declare v_price bigint;
  declare v_status varchar(16);
  declare v_balance bigint;
  declare v_payment bigint;
  declare v_body text default null;
  declare v_concert bigint default null;
  declare exit handler for sqlexception
  begin
    rollback;
    resignal;
  end;
  start transaction;
  insert into idempotency_records (user_id, scope, idem_key, request_hash, status_code, response_body, created_at)
  values (p_user, 'payment', p_key, p_hash, null, null, p_now);
  select user_id, schedule_id, seat_id, price into v_owner, v_schedule, v_seat, v_price
    from reservations where id = p_reservation;
  if v_owner is null then
    set v_outcome = 'NOT_FOUND';
  elseif v_owner <> p_user then
    set v_outcome = 'FORBIDDEN';
  else
    update seats set status = 'SOLD', hold_expires_at = null, updated_at = p_now
     where id = v_seat and status = 'HELD' and reservation_id = p_reservation and hold_expires_at > p_now;
    if row_count() <> 1 then
      select status into v_status from reservations where id = p_reservation;
      set v_outcome = case v_status
        when 'CONFIRMED' then 'ALREADY_PAID'
        when 'CANCELLED' then 'CANCELLED'
        else 'HOLD_EXPIRED' end;
    else
      update reservations set status = 'CONFIRMED', updated_at = p_now
       where id = p_reservation and status = 'HELD';
      if row_count() <> 1 then
        set v_outcome = 'HOLD_EXPIRED';
      else
        update point_wallets set balance = balance - v_price, updated_at = p_now
         where user_id = p_user and balance >= v_price;
        if row_count() <> 1 then
          set v_outcome = 'INSUFFICIENT_POINTS';
        else
          select balance into v_balance from point_wallets where user_id = p_user;
          insert into point_ledger (user_id, type, amount, balance_after, created_at)
          values (p_user, 'USE', v_price, v_balance, p_now);
          insert into payments (reservation_id, user_id, amount, status, created_at)
          values (p_reservation, p_user, v_price, 'PAID', p_now);
          set v_payment = last_insert_id();
          select concert_id into v_concert from schedules where id = v_schedule;
          insert ignore into outbox (event_id, topic, event_key, type, payload, created_at, sent_at, shard, concert_id)
          values (
            concat('payment.completed:', v_payment), 'payment.completed', p_reservation, 'payment.completed',
            concat(
              '{"paymentId":"', v_payment, '","reservationId":"', p_reservation, '","scheduleId":"',
              v_schedule, '","seatId":"', v_seat, '","userId":', json_quote(p_user), ',"amount":', v_price,
              '}'),
            p_now, null, p_shard, v_concert);
          set v_body = concat(
            '{"paymentId":"', v_payment, '","reservationId":"', p_reservation, '","amount":', v_price,
            ',"status":"PAID","balance":', v_balance, '}');
          update idempotency_records set status_code = 201, response_body = v_body
           where user_id = p_user and scope = 'payment' and idem_key = p_key;
        end if;
      end if;
    end if;
  end if;
  if v_outcome = 'PAID' then
    commit;
  else
    rollback;
  end if;
  select v_outcome as outcome, v_body as body, v_price as price;
end
