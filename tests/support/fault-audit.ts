import type { Acknowledged } from './fault-load.ts';

/**
 * What the fault suite reads back after the run, and the checks on it. Each check returns the list of
 * problems it found (empty when it holds), so a failing assertion shows the evidence itself.
 */

export interface Snapshot {
  takenAt: number;
  reservations: {
    id: string;
    userId: string;
    seatId: string;
    status: string;
    expiresAt: number;
    createdAt: number;
    updatedAt: number;
  }[];
  payments: { id: string; reservationId: string; userId: string; amount: number }[];
  ledger: { id: string; userId: string; type: string; amount: number; balanceAfter: number }[];
  wallets: { userId: string; balance: number }[];
  seats: { id: string; status: string; reservationId: string | null }[];
  outbox: { eventId: string; topic: string; payload: Record<string, unknown>; sentAt: number | null }[];
  processed: { consumer: string; eventId: string }[];
}

type Query = (sql: string) => Promise<Record<string, unknown>[]>;

const str = (value: unknown) => (value === null || value === undefined ? '' : String(value));

export async function readSnapshot(query: Query): Promise<Snapshot> {
  const takenAt = Date.now();
  const [reservations, payments, ledger, wallets, seats, outbox, processed] = await Promise.all([
    query('SELECT id, user_id, seat_id, status, expires_at, created_at, updated_at FROM reservations'),
    query('SELECT id, reservation_id, user_id, amount FROM payments'),
    query('SELECT id, user_id, type, amount, balance_after FROM point_ledger'),
    query('SELECT user_id, balance FROM point_wallets'),
    query('SELECT id, status, reservation_id FROM seats'),
    query('SELECT event_id, topic, payload, sent_at FROM outbox'),
    query('SELECT consumer, event_id FROM processed_events'),
  ]);
  return {
    takenAt,
    reservations: reservations.map((r) => ({
      id: str(r.id),
      userId: str(r.user_id),
      seatId: str(r.seat_id),
      status: str(r.status),
      expiresAt: Number(r.expires_at),
      createdAt: Number(r.created_at),
      updatedAt: Number(r.updated_at),
    })),
    payments: payments.map((p) => ({
      id: str(p.id),
      reservationId: str(p.reservation_id),
      userId: str(p.user_id),
      amount: Number(p.amount),
    })),
    ledger: ledger.map((l) => ({
      id: str(l.id),
      userId: str(l.user_id),
      type: str(l.type),
      amount: Number(l.amount),
      balanceAfter: Number(l.balance_after),
    })),
    wallets: wallets.map((w) => ({ userId: str(w.user_id), balance: Number(w.balance) })),
    seats: seats.map((s) => ({
      id: str(s.id),
      status: str(s.status),
      reservationId: s.reservation_id === null ? null : str(s.reservation_id),
    })),
    outbox: outbox.map((o) => ({
      eventId: str(o.event_id),
      topic: str(o.topic),
      payload: (typeof o.payload === 'string' ? JSON.parse(o.payload) : o.payload) as Record<string, unknown>,
      sentAt: o.sent_at === null ? null : Number(o.sent_at),
    })),
    processed: processed.map((p) => ({ consumer: str(p.consumer), eventId: str(p.event_id) })),
  };
}

/**
 * A hold's own clock reading is taken before its conditional write waits on the seat's row lock, so a
 * takeover that queued behind a cancel or a sweep can carry a creation time a little before the moment
 * the previous hold ended. Wider gaps than this are overlaps.
 */
const lockWaitSlackMs = 1_000;

export function doubleLiveReservations(snapshot: Snapshot): string[] {
  const problems: string[] = [];
  const bySeat = new Map<string, Snapshot['reservations']>();
  for (const r of snapshot.reservations) bySeat.set(r.seatId, [...(bySeat.get(r.seatId) ?? []), r]);
  for (const [seatId, list] of bySeat) {
    const live = list.filter(
      (r) => r.status === 'CONFIRMED' || (r.status === 'HELD' && r.expiresAt > snapshot.takenAt),
    );
    if (live.length > 1)
      problems.push(`seat ${seatId}: live now ${live.map((r) => `${r.id}/${r.status}`).join(', ')}`);
    const ordered = [...list].sort((a, b) => a.createdAt - b.createdAt || Number(a.id) - Number(b.id));
    for (let i = 1; i < ordered.length; i++) {
      const before = ordered[i - 1]!;
      const after = ordered[i]!;
      const ended =
        before.status === 'EXPIRED'
          ? before.expiresAt
          : before.status === 'CANCELLED'
            ? before.updatedAt
            : null;
      if (ended === null || ended > after.createdAt + lockWaitSlackMs) {
        problems.push(
          `seat ${seatId}: reservation ${after.id} created at ${after.createdAt} while ${before.id} was ${before.status} (ended ${ended ?? 'never'})`,
        );
      }
    }
  }
  const reservations = new Map(snapshot.reservations.map((r) => [r.id, r]));
  const paidPerSeat = new Map<string, number>();
  for (const p of snapshot.payments) {
    const seatId = reservations.get(p.reservationId)?.seatId ?? `(reservation ${p.reservationId} missing)`;
    paidPerSeat.set(seatId, (paidPerSeat.get(seatId) ?? 0) + 1);
  }
  for (const [seatId, count] of paidPerSeat)
    if (count > 1) problems.push(`seat ${seatId}: paid ${count} times`);
  for (const seat of snapshot.seats) {
    const holder = seat.reservationId ? reservations.get(seat.reservationId) : undefined;
    if (seat.status === 'SOLD' && holder?.status !== 'CONFIRMED')
      problems.push(
        `seat ${seat.id}: SOLD but its reservation ${seat.reservationId} is ${holder?.status ?? 'missing'}`,
      );
  }
  for (const r of snapshot.reservations) {
    if (r.status !== 'CONFIRMED') continue;
    const seat = snapshot.seats.find((s) => s.id === r.seatId);
    if (seat?.status !== 'SOLD' || seat.reservationId !== r.id)
      problems.push(
        `reservation ${r.id} CONFIRMED but seat ${r.seatId} is ${seat?.status}/${seat?.reservationId}`,
      );
  }
  return problems;
}

export function missingAcknowledged(snapshot: Snapshot, ack: Acknowledged): string[] {
  const problems: string[] = [];
  const reservations = new Map(snapshot.reservations.map((r) => [r.id, r]));
  const payments = new Map(snapshot.payments.map((p) => [p.id, p]));
  const ledger = new Map(snapshot.ledger.map((l) => [l.id, l]));
  for (const [id, hold] of ack.holds) {
    const row = reservations.get(id);
    if (!row) problems.push(`hold 201 reservation ${id} (seat ${hold.seatId}, ${hold.userId}): no row`);
    else if (row.seatId !== hold.seatId || row.userId !== hold.userId)
      problems.push(`hold 201 reservation ${id}: row is seat ${row.seatId} of ${row.userId}`);
  }
  for (const [id, payment] of ack.payments) {
    const row = payments.get(id);
    if (!row) problems.push(`payment 201 ${id} (reservation ${payment.reservationId}): no row`);
    else if (
      row.reservationId !== payment.reservationId ||
      row.userId !== payment.userId ||
      row.amount !== payment.amount
    )
      problems.push(`payment 201 ${id}: row differs ${JSON.stringify(row)}`);
    const reservation = reservations.get(payment.reservationId);
    if (reservation?.status !== 'CONFIRMED')
      problems.push(
        `payment 201 ${id}: reservation ${payment.reservationId} is ${reservation?.status ?? 'missing'}`,
      );
  }
  for (const [id, charge] of ack.charges) {
    const row = ledger.get(id);
    if (!row) problems.push(`charge 201 ${id} (${charge.userId}, ${charge.amount}): no ledger row`);
    else if (
      row.userId !== charge.userId ||
      row.type !== 'CHARGE' ||
      row.amount !== charge.amount ||
      row.balanceAfter !== charge.balance
    )
      problems.push(`charge 201 ${id}: ledger row differs ${JSON.stringify(row)}`);
  }
  for (const [id, cancel] of ack.cancels) {
    const row = reservations.get(id);
    if (row?.status !== 'CANCELLED')
      problems.push(`cancel 200 ${id} (${cancel.userId}): reservation is ${row?.status ?? 'missing'}`);
  }
  return problems;
}

export function unbalancedWallets(snapshot: Snapshot): string[] {
  const sums = new Map<string, number>();
  for (const l of snapshot.ledger) {
    const signed = l.type === 'USE' ? -l.amount : l.amount;
    sums.set(l.userId, (sums.get(l.userId) ?? 0) + signed);
  }
  const balances = new Map(snapshot.wallets.map((w) => [w.userId, w.balance]));
  const problems: string[] = [];
  for (const userId of new Set([...sums.keys(), ...balances.keys()])) {
    const balance = balances.get(userId) ?? 0;
    const sum = sums.get(userId) ?? 0;
    if (balance !== sum) problems.push(`${userId}: balance ${balance}, ledger sums to ${sum}`);
  }
  return problems;
}

export interface WireEvent {
  topic: string;
  data: Record<string, unknown>;
  copies: number;
}

/** Problems grouped by kind, each kind with its count and a few examples (a broken run finds a great many). */
export function summarize(problems: string[][]): string[] {
  return problems
    .filter((list) => list.length > 0)
    .map((list) => `${list.length}× ${list.slice(0, 4).join(' | ')}${list.length > 4 ? ' | …' : ''}`);
}

export function eventProblems(
  snapshot: Snapshot,
  wire: Map<string, WireEvent>,
  webhook: Map<string, number>,
  consumers: { notify: readonly string[]; release: readonly string[]; releaseConsumer: string },
): string[] {
  const outbox = new Map(snapshot.outbox.map((o) => [o.eventId, o]));
  const reservations = new Map(snapshot.reservations.map((r) => [r.id, r]));
  const payments = new Set(snapshot.payments.map((p) => p.id));

  const unsent = snapshot.outbox.filter((o) => o.sentAt === null).map((o) => `unsent ${o.eventId}`);

  const noEvent: string[] = [];
  const expect = (eventId: string, fact: string) => {
    if (!outbox.has(eventId)) noEvent.push(`${fact} has no event ${eventId}`);
  };
  for (const r of snapshot.reservations) {
    expect(`reservation.created:${r.id}`, `reservation ${r.id}`);
    if (r.status === 'EXPIRED') expect(`reservation.expired:${r.id}`, `EXPIRED reservation ${r.id}`);
    if (r.status === 'CANCELLED') expect(`reservation.cancelled:${r.id}`, `CANCELLED reservation ${r.id}`);
  }
  for (const p of snapshot.payments) expect(`payment.completed:${p.id}`, `payment ${p.id}`);

  const noFact: string[] = [];
  for (const o of snapshot.outbox) {
    const [topic, id = ''] = [o.topic, o.eventId.slice(o.topic.length + 1)];
    const status = reservations.get(id)?.status;
    const ok =
      topic === 'reservation.created'
        ? status !== undefined
        : topic === 'reservation.expired'
          ? status === 'EXPIRED'
          : topic === 'reservation.cancelled'
            ? status === 'CANCELLED'
            : topic === 'payment.completed'
              ? payments.has(id)
              : true;
    if (!ok) noFact.push(`${o.eventId} but the database says ${status ?? 'no such row'}`);
  }

  const notOnWire = snapshot.outbox
    .filter((o) => !wire.has(o.eventId))
    .map((o) => `not on Kafka: ${o.eventId}`);
  const unknownOnWire = [...wire.keys()]
    .filter((id) => !outbox.has(id))
    .map((id) => `on Kafka, not in outbox: ${id}`);

  const idsPerFact = new Map<string, Set<string>>();
  const addFact = (fact: string, id: string) =>
    idsPerFact.set(fact, (idsPerFact.get(fact) ?? new Set()).add(id));
  for (const [id, event] of wire) {
    const reservationId = String(event.data.reservationId ?? '');
    if (event.topic === 'reservation.created') addFact(`created ${reservationId}`, id);
    else if (event.topic !== 'queue.activated') addFact(`end of reservation ${reservationId}`, id);
  }
  const twoIds = [...idsPerFact]
    .filter(([, ids]) => ids.size > 1)
    .map(([fact, ids]) => `${fact}: ${[...ids].join(' + ')}`);

  const notNotified = snapshot.outbox
    .filter((o) => consumers.notify.includes(o.topic) && !webhook.has(o.eventId))
    .map((o) => `webhook never got ${o.eventId}`);
  const unknownNotified = [...webhook.keys()]
    .filter((id) => !outbox.has(id))
    .map((id) => `webhook got ${id}, not in outbox`);
  const released = new Set(
    snapshot.processed.filter((p) => p.consumer === consumers.releaseConsumer).map((p) => p.eventId),
  );
  const notReleased = snapshot.outbox
    .filter((o) => consumers.release.includes(o.topic) && !released.has(o.eventId))
    .map((o) => `release-seat never processed ${o.eventId}`);

  return summarize([
    unsent,
    noEvent,
    noFact,
    notOnWire,
    unknownOnWire,
    twoIds,
    notNotified,
    unknownNotified,
    notReleased,
  ]);
}

/**
 * Admission happens in Redis and its event is written to the outbox after it, so an admission during a
 * database outage is the case to look at: the client was told ACTIVE, and that fact needs its event.
 */
export function activationsWithoutEvent(snapshot: Snapshot, ack: Acknowledged): string[] {
  const activated = new Set(
    snapshot.outbox.filter((o) => o.topic === 'queue.activated').map((o) => String(o.payload.userId)),
  );
  return [...ack.activated]
    .filter((userId) => !activated.has(userId))
    .map((userId) => `${userId} was told ACTIVE but has no queue.activated`);
}
