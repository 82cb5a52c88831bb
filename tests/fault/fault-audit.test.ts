import { describe, expect, it } from 'vitest';
import {
  activationsWithoutEvent,
  doubleLiveReservations,
  eventProblems,
  missingAcknowledged,
  type Snapshot,
  unbalancedWallets,
  type WireEvent,
} from '../support/fault-audit.ts';
import type { Acknowledged } from '../support/fault-load.ts';

/**
 * The fault suite's checks on made-up states: a clean run passes them only if each check also finds the
 * breakage it is there for, so every case below is one breakage and the check must name it.
 */

const now = 1_800_000_000_000;

function snapshot(patch: Partial<Snapshot> = {}): Snapshot {
  return {
    takenAt: now,
    reservations: [
      {
        id: '1',
        userId: 'u1',
        seatId: '7',
        status: 'CANCELLED',
        expiresAt: now - 5_000,
        createdAt: now - 15_000,
        updatedAt: now - 12_000,
      },
      {
        id: '2',
        userId: 'u2',
        seatId: '7',
        status: 'CONFIRMED',
        expiresAt: now + 5_000,
        createdAt: now - 11_000,
        updatedAt: now - 10_000,
      },
    ],
    payments: [{ id: '9', reservationId: '2', userId: 'u2', amount: 1000 }],
    ledger: [
      { id: '20', userId: 'u2', type: 'CHARGE', amount: 1000, balanceAfter: 1000 },
      { id: '21', userId: 'u2', type: 'USE', amount: 1000, balanceAfter: 0 },
    ],
    wallets: [{ userId: 'u2', balance: 0 }],
    seats: [{ id: '7', status: 'SOLD', reservationId: '2' }],
    outbox: [
      {
        eventId: 'reservation.created:1',
        topic: 'reservation.created',
        payload: { reservationId: '1' },
        sentAt: now,
      },
      {
        eventId: 'reservation.cancelled:1',
        topic: 'reservation.cancelled',
        payload: { reservationId: '1' },
        sentAt: now,
      },
      {
        eventId: 'reservation.created:2',
        topic: 'reservation.created',
        payload: { reservationId: '2' },
        sentAt: now,
      },
      {
        eventId: 'payment.completed:9',
        topic: 'payment.completed',
        payload: { reservationId: '2' },
        sentAt: now,
      },
      { eventId: 'queue.activated:1:u2:5', topic: 'queue.activated', payload: { userId: 'u2' }, sentAt: now },
    ],
    processed: [{ consumer: 'release-seat', eventId: 'reservation.cancelled:1' }],
    ...patch,
  };
}

function acknowledged(): Acknowledged {
  return {
    holds: new Map([['2', { seatId: '7', scheduleId: '1', userId: 'u2' }]]),
    payments: new Map([['9', { reservationId: '2', userId: 'u2', amount: 1000 }]]),
    charges: new Map([['20', { userId: 'u2', amount: 1000, balance: 1000 }]]),
    cancels: new Map([['1', { userId: 'u1' }]]),
    activated: new Set(['u2']),
  };
}

function wireOf(state: Snapshot): Map<string, WireEvent> {
  return new Map(state.outbox.map((o) => [o.eventId, { topic: o.topic, data: o.payload, copies: 1 }]));
}

const consumers = {
  notify: ['reservation.created', 'payment.completed', 'queue.activated', 'reservation.expired'],
  release: ['reservation.expired', 'reservation.cancelled'],
  releaseConsumer: 'release-seat',
};
const notified = (state: Snapshot) =>
  new Map(state.outbox.filter((o) => consumers.notify.includes(o.topic)).map((o) => [o.eventId, 1]));

describe('fault suite checks', () => {
  it('find nothing wrong in a consistent state', () => {
    const state = snapshot();
    expect(doubleLiveReservations(state)).toEqual([]);
    expect(missingAcknowledged(state, acknowledged())).toEqual([]);
    expect(unbalancedWallets(state)).toEqual([]);
    expect(eventProblems(state, wireOf(state), notified(state), consumers)).toEqual([]);
    expect(activationsWithoutEvent(state, acknowledged())).toEqual([]);
  });

  it('find a seat held while another hold of it was still live', () => {
    const [first, second] = snapshot().reservations;
    const overlapping = snapshot({
      reservations: [{ ...first!, status: 'HELD', expiresAt: now + 60_000 }, second!],
    });
    expect(doubleLiveReservations(overlapping).join('\n')).toMatch(/seat 7: live now 1\/HELD, 2\/CONFIRMED/);
    const cancelledLate = snapshot({
      reservations: [{ ...first!, updatedAt: second!.createdAt + 5_000 }, second!],
    });
    expect(doubleLiveReservations(cancelledLate).join('\n')).toMatch(
      /reservation 2 created .* while 1 was CANCELLED/,
    );
  });

  it('find a seat paid twice and a SOLD seat whose reservation is not confirmed', () => {
    const paidTwice = snapshot({
      payments: [...snapshot().payments, { id: '10', reservationId: '2', userId: 'u2', amount: 1000 }],
    });
    expect(doubleLiveReservations(paidTwice)).toContain('seat 7: paid 2 times');
    const sold = snapshot({ seats: [{ id: '7', status: 'SOLD', reservationId: '1' }] });
    expect(doubleLiveReservations(sold).join('\n')).toMatch(/SOLD but its reservation 1 is CANCELLED/);
  });

  it('find acknowledged writes that are missing or different', () => {
    const ack = acknowledged();
    ack.holds.set('3', { seatId: '8', scheduleId: '1', userId: 'u3' });
    ack.charges.set('20', { userId: 'u2', amount: 1000, balance: 2000 });
    ack.payments.set('11', { reservationId: '1', userId: 'u1', amount: 1000 });
    const problems = missingAcknowledged(snapshot(), ack).join('\n');
    expect(problems).toMatch(/hold 201 reservation 3 .*: no row/);
    expect(problems).toMatch(/charge 201 20: ledger row differs/);
    expect(problems).toMatch(/payment 201 11 .*: no row/);
    expect(problems).toMatch(/payment 201 11: reservation 1 is CANCELLED/);
  });

  it('find a balance that is not the sum of its ledger', () => {
    expect(unbalancedWallets(snapshot({ wallets: [{ userId: 'u2', balance: 1000 }] }))).toEqual([
      'u2: balance 1000, ledger sums to 0',
    ]);
  });

  it('find unsent, missing, unknown and doubled events, and consumers that missed one', () => {
    const state = snapshot();
    const unsent = snapshot({ outbox: state.outbox.map((o, i) => (i === 0 ? { ...o, sentAt: null } : o)) });
    expect(eventProblems(unsent, wireOf(state), notified(state), consumers).join('\n')).toMatch(
      /unsent reservation.created:1/,
    );
    const noEvent = snapshot({ outbox: state.outbox.filter((o) => o.topic !== 'payment.completed') });
    expect(eventProblems(noEvent, wireOf(noEvent), notified(noEvent), consumers).join('\n')).toMatch(
      /payment 9 has no event payment.completed:9/,
    );
    const wire = wireOf(state);
    wire.delete('reservation.created:2');
    wire.set('payment.completed:10', { topic: 'payment.completed', data: { reservationId: '2' }, copies: 1 });
    const onWire = eventProblems(state, wire, notified(state), consumers).join('\n');
    expect(onWire).toMatch(/not on Kafka: reservation.created:2/);
    expect(onWire).toMatch(/on Kafka, not in outbox: payment.completed:10/);
    expect(onWire).toMatch(/end of reservation 2: payment.completed:9 \+ payment.completed:10/);
    const hooks = notified(state);
    hooks.delete('queue.activated:1:u2:5');
    const released = snapshot({ processed: [] });
    const consumed = eventProblems(released, wireOf(state), hooks, consumers).join('\n');
    expect(consumed).toMatch(/webhook never got queue.activated:1:u2:5/);
    expect(consumed).toMatch(/release-seat never processed reservation.cancelled:1/);
  });

  it('find a user told ACTIVE without a queue.activated event', () => {
    const ack = acknowledged();
    ack.activated.add('u9');
    expect(activationsWithoutEvent(snapshot(), ack)).toEqual([
      'u9 was told ACTIVE but has no queue.activated',
    ]);
  });
});
