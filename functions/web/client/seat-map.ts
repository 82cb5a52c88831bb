import { api, complain } from './api.ts';
import { announce, byId, data, done, duration, el, money, showAlert, sleep, tr } from './core.ts';
import { access, holds, seatNumbers } from './store.ts';
import type { Reservation, Seat } from './types.ts';

// The API's seat map is at most a second old; asking as often shows a lost seat without a reload.
const refreshMs = 1000;
const statusKey = { AVAILABLE: 'seatAvailable', HELD: 'seatHeld', SOLD: 'seatSold' } as const;

export async function seatMapPage(): Promise<void> {
  const concertId = data.params.concertId ?? '';
  const scheduleId = data.params.scheduleId ?? '';
  const queueUrl = `/concerts/${concertId}/queue?schedule=${scheduleId}`;
  const pass = access.get(concertId);
  if (!pass || Date.parse(pass.activeUntil) <= Date.now()) {
    location.replace(queueUrl);
    return;
  }
  const headers = { 'x-queue-token': pass.accessToken };
  const buttons = new Map<string, HTMLButtonElement>();
  const grid = el('div', { class: 'seats', role: 'group' });
  let countdown: ReturnType<typeof setInterval> | undefined;

  const showHold = (hold: ReturnType<typeof holds.get>) => {
    clearInterval(countdown);
    const box = byId('hold');
    box.hidden = hold === null;
    if (!hold) return;
    byId<HTMLAnchorElement>('hold-pay').href = `/reservations/${hold.reservationId}/pay?concert=${concertId}`;
    const tick = () => {
      const left = (Date.parse(hold.expiresAt) - Date.now()) / 1000;
      if (left <= 0) {
        clearInterval(countdown);
        holds.set(scheduleId, null);
        box.hidden = true;
        showAlert(tr('holdExpired'));
        return;
      }
      byId('hold-text').textContent = tr('holdFor', { number: hold.seatNumber, time: duration(left) });
    };
    tick();
    countdown = setInterval(tick, 1000);
  };

  const choose = async (seat: Seat) => {
    showAlert(null);
    const answer = await api<Reservation>('/v1/reservations', {
      method: 'POST',
      body: { scheduleId, seatId: seat.id },
      headers,
    });
    if (answer.ok) {
      const hold = {
        reservationId: answer.body.id,
        seatNumber: seat.number,
        expiresAt: answer.body.expiresAt,
      };
      holds.set(scheduleId, hold);
      seatNumbers.set(answer.body.id, seat.number);
      showHold(hold);
      announce(byId('hold-text').textContent ?? '');
      byId('hold-pay').focus();
    } else if (answer.code === 'SEAT_TAKEN') {
      showAlert(tr('seatTaken', { number: seat.number }));
      paint({ ...seat, status: 'HELD' });
    } else if (answer.status === 403) {
      location.replace(queueUrl);
    } else {
      complain(answer);
    }
  };

  const paint = (seat: Seat) => {
    let button = buttons.get(seat.id);
    if (!button) {
      button = el('button', { type: 'button', class: 'seat' }, String(seat.number));
      const current = button;
      current.addEventListener('click', () => {
        if (current.getAttribute('aria-disabled') !== 'true') void choose(seat);
      });
      buttons.set(seat.id, current);
      grid.append(current);
    }
    const status = seat.status;
    button.dataset.status = status;
    button.dataset.seat = String(seat.number);
    // aria-disabled, not disabled: a taken seat stays in the tab order, so it is still read out.
    button.setAttribute('aria-disabled', String(status !== 'AVAILABLE'));
    button.setAttribute(
      'aria-label',
      tr('seatLabel', { number: seat.number, price: money(seat.price), status: tr(statusKey[status]) }),
    );
    button.title = `${money(seat.price)} · ${tr(statusKey[status])}`;
  };

  byId('hold-cancel').addEventListener('click', async () => {
    const hold = holds.get(scheduleId);
    if (!hold) return;
    const answer = await api<Reservation>(`/v1/reservations/${hold.reservationId}`, { method: 'DELETE' });
    if (!answer.ok && answer.status !== 409) complain(answer);
    holds.set(scheduleId, null);
    showHold(null);
  });

  showHold(holds.get(scheduleId));
  let first = true;
  for (;;) {
    try {
      const answer = await api<{ items: Seat[] }>(`/v1/schedules/${scheduleId}/seats`, { headers });
      if (answer.ok) {
        for (const seat of answer.body.items) paint(seat);
        if (first) {
          first = false;
          done('seats');
          byId('seats').replaceChildren(grid);
        }
      } else if (answer.status === 403) {
        access.set(concertId, null);
        location.replace(queueUrl);
        return;
      } else if (answer.status !== 429) {
        complain(answer);
      }
    } catch {
      // A lost answer: the next refresh tells.
    }
    await sleep(refreshMs);
  }
}
