import { api, complain } from './api.ts';
import { announce, byId, data, done, duration, el, money, showAlert, tr } from './core.ts';
import { access, paymentKey, seatNumbers } from './store.ts';
import type { Reservation } from './types.ts';

/** Points and the hold's price; top up when short; pay with one idempotency key for every retry. */
export async function paymentPage(): Promise<void> {
  const reservationId = data.params.reservationId ?? '';
  const concertId = data.params.concertId ?? '';
  const confirmation = `/reservations/${reservationId}`;
  const [reservation, points] = await Promise.all([
    api<Reservation>(`/v1/reservations/${reservationId}`),
    api<{ balance: number }>('/v1/points'),
  ]);
  done('payment');
  if (!reservation.ok) return complain(reservation);
  if (!points.ok) return complain(points);
  if (reservation.body.status === 'CONFIRMED') return location.assign(confirmation);
  const price = reservation.body.price;
  let balance = points.body.balance;
  const payButton = byId<HTMLButtonElement>('pay-button');
  const form = byId<HTMLFormElement>('topup');
  const amount = byId<HTMLInputElement>('topup-amount');

  const update = () => {
    byId('pay-price').textContent = money(price);
    byId('pay-balance').textContent = money(balance);
    const short = price - balance;
    form.hidden = short <= 0;
    if (short > 0) {
      byId('topup-short').textContent = tr('shortBy', { amount: money(short) });
      amount.value = String(short);
    }
    payButton.textContent = tr('pay', { amount: money(price) });
    payButton.disabled = short > 0;
  };
  update();

  const expiresAt = Date.parse(reservation.body.expiresAt);
  const tick = () => {
    const left = (expiresAt - Date.now()) / 1000;
    byId('hold-left').textContent =
      left > 0
        ? tr('holdFor', { number: seatNumbers.get(reservationId) ?? '', time: duration(left) })
        : tr('holdExpired');
  };
  tick();
  setInterval(tick, 1000);

  let chargeKey = crypto.randomUUID();
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    showAlert(null);
    try {
      const answer = await api<{ balance: number }>('/v1/points/charges', {
        method: 'POST',
        body: { amount: Number(amount.value) },
        headers: { 'idempotency-key': chargeKey },
      });
      if (!answer.ok) return complain(answer);
      chargeKey = crypto.randomUUID();
      balance = answer.body.balance;
      update();
      announce(`${tr('balance')}: ${money(balance)}`);
      payButton.focus();
    } catch {
      // The same key on the next submit: a charge that did land is not made twice.
      showAlert(tr('payRetry'));
    }
  });

  payButton.addEventListener('click', async () => {
    showAlert(null);
    payButton.disabled = true;
    const pass = access.get(concertId);
    try {
      const answer = await api<{ balance: number }>(`/v1/reservations/${reservationId}/payments`, {
        method: 'POST',
        body: {},
        headers: {
          'idempotency-key': paymentKey(reservationId),
          ...(pass ? { 'x-queue-token': pass.accessToken } : {}),
        },
      });
      if (answer.ok || answer.code === 'ALREADY_PAID') {
        byId('pay-retry').hidden = true;
        announce(tr('paid'));
        location.assign(confirmation);
        return;
      }
      if (answer.code === 'INSUFFICIENT_POINTS') {
        const fresh = await api<{ balance: number }>('/v1/points');
        if (fresh.ok) balance = fresh.body.balance;
        update();
        amount.focus();
        return;
      }
      complain(answer);
      payButton.disabled = false;
    } catch {
      byId('pay-retry').hidden = false;
      payButton.disabled = false;
      payButton.focus();
    }
  });
}

export async function confirmationPage(): Promise<void> {
  const reservationId = data.params.reservationId ?? '';
  const answer = await api<Reservation>(`/v1/reservations/${reservationId}`);
  done('confirmation');
  if (!answer.ok) return complain(answer);
  byId('confirmation').replaceChildren(reservationCard(answer.body));
}

export async function reservationsPage(): Promise<void> {
  const listed = await api<{ items: Reservation[] }>('/v1/reservations');
  done('reservations');
  if (!listed.ok) return complain(listed);
  const items = listed.body.items;
  byId('reservations').replaceChildren(
    items.length === 0
      ? el('p', {}, tr('noReservations'))
      : el('ul', { class: 'cards' }, ...items.map((r) => el('li', {}, reservationCard(r)))),
  );
}

function reservationCard(r: Reservation): HTMLElement {
  const seat = seatNumbers.get(r.id);
  const status = tr(`status${r.status}`);
  return el(
    'article',
    { class: 'card', 'aria-label': `#${r.id}` },
    el('p', {}, r.status === 'CONFIRMED' ? tr('confirmed', { id: r.id }) : `#${r.id}`),
    el(
      'dl',
      { class: 'stats' },
      ...(seat === null ? [] : [el('div', {}, el('dt', {}, tr('seatsTitle')), el('dd', {}, String(seat)))]),
      el('div', {}, el('dt', {}, tr('price')), el('dd', {}, money(r.price))),
      el('div', {}, el('dt', {}, tr('statusLabel')), el('dd', { 'data-status': r.status }, status)),
    ),
  );
}
