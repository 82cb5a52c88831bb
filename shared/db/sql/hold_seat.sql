-- A seat hold as one transaction and one round trip (MySQL/MariaDB). The seat goes to the caller if it
-- is AVAILABLE or its hold lapsed (lazy expiry: no sweeper needs to have run); the conditional UPDATE's
-- affected-row count decides. The lapsed reservation, if any, becomes EXPIRED with its event, and the new
-- reservation, the seat's link to it and reservation.created commit with it or not at all. A refusal
-- writes nothing and says why, from the seat as it is now: NOT_FOUND (no such seat in this schedule),
-- MINE (the caller's own live hold: its reservation), SOLD, or TAKEN (holder and until).
--
-- The event rows are built here, as shared/seats/seat-events.ts builds them on SQLite, byte for byte:
-- tests/integration/stored-procedures.test.ts holds the two to that.
--
-- Answers one row: outcome, reservation_id, price, expires_at, holder.
create procedure hold_seat(
  in p_user varchar(64), in p_schedule bigint, in p_seat bigint,
  in p_now bigint, in p_expires bigint, in p_expires_iso varchar(32), in p_shard integer)
begin
  declare v_outcome varchar(16) default 'HELD';
  declare v_reservation bigint default null;
  declare v_price bigint default null;
  declare v_expires bigint default null;
  declare v_status varchar(16) default null;
  declare v_holder varchar(64) default null;
  declare v_lapsed bigint default null;
  declare v_lapsed_user varchar(64);
  declare v_lapsed_schedule bigint;
  declare v_lapsed_price bigint;
  declare v_lapsed_expires bigint;
  declare v_concert bigint default null;
  declare exit handler for sqlexception
  begin
    rollback;
    resignal;
  end;
  start transaction;
  update seats
     set status = 'HELD', held_by = p_user, hold_expires_at = p_expires, updated_at = p_now
   where id = p_seat and schedule_id = p_schedule
     and (status = 'AVAILABLE' or (status = 'HELD' and hold_expires_at < p_now));
  if row_count() = 1 then
    -- The events' concert (the console lists events per concert); a plain read, no lock on the schedule.
    select concert_id into v_concert from schedules where id = p_schedule;
    -- Through the unique index of the seat's live reservation, forced: a plan through the status index
    -- would lock other seats' holds and deadlock against payments.
    select id, user_id, schedule_id, price, expires_at
      into v_lapsed, v_lapsed_user, v_lapsed_schedule, v_lapsed_price, v_lapsed_expires
      from reservations force index (uq_reservations_active_seat)
     where active_seat_id = p_seat and status = 'HELD'
       for update;
    if v_lapsed is not null then
      update reservations set status = 'EXPIRED', updated_at = p_now where id = v_lapsed;
      -- expiresAt as JavaScript's toISOString() writes it, without the session time zone.
      insert ignore into outbox (event_id, topic, event_key, type, payload, created_at, sent_at, shard, concert_id)
      values (
        concat('reservation.expired:', v_lapsed), 'reservation.expired', p_seat, 'reservation.expired',
        concat(
          '{"reservationId":"', v_lapsed, '","scheduleId":"', v_lapsed_schedule, '","seatId":"', p_seat,
          '","userId":', json_quote(v_lapsed_user), ',"price":', v_lapsed_price, ',"expiresAt":"',
          date_format(timestamp '1970-01-01 00:00:00' + interval (v_lapsed_expires div 1000) second,
            '%Y-%m-%dT%H:%i:%s'),
          '.', lpad(v_lapsed_expires mod 1000, 3, '0'), 'Z"}'),
        p_now, null, p_shard, v_concert);
    end if;
    select price into v_price from seats where id = p_seat;
    insert into reservations (user_id, schedule_id, seat_id, price, status, expires_at, created_at, updated_at)
    values (p_user, p_schedule, p_seat, v_price, 'HELD', p_expires, p_now, p_now);
    set v_reservation = last_insert_id();
    set v_expires = p_expires;
    update seats set reservation_id = v_reservation where id = p_seat;
    insert ignore into outbox (event_id, topic, event_key, type, payload, created_at, sent_at, shard, concert_id)
    values (
      concat('reservation.created:', v_reservation), 'reservation.created', p_seat, 'reservation.created',
      concat(
        '{"reservationId":"', v_reservation, '","scheduleId":"', p_schedule, '","seatId":"', p_seat,
        '","userId":', json_quote(p_user), ',"price":', v_price, ',"expiresAt":"', p_expires_iso, '"}'),
      p_now, null, p_shard, v_concert);
    commit;
  else
    rollback;
    select status, held_by, hold_expires_at, reservation_id
      into v_status, v_holder, v_expires, v_reservation
      from seats where id = p_seat and schedule_id = p_schedule;
    if v_status is null then
      set v_outcome = 'NOT_FOUND';
    elseif v_status = 'SOLD' then
      set v_outcome = 'SOLD';
    elseif v_status = 'HELD' and v_holder = p_user and v_expires >= p_now then
      -- A retried request (or a second tab) of the holder gets its hold back.
      set v_outcome = 'MINE';
      select price, expires_at into v_price, v_expires from reservations where id = v_reservation;
    else
      set v_outcome = 'TAKEN';
    end if;
  end if;
  select v_outcome as outcome, v_reservation as reservation_id, v_price as price, v_expires as expires_at,
         v_holder as holder;
end
