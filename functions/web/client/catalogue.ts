import { api, complain } from './api.ts';
import { byId, data, dateTime, done, el, tr } from './core.ts';
import type { Concert, Schedule } from './types.ts';

/** Concerts, whether the catalogue is public yet or still asks for the token (sent when there is one). */
export async function loadConcerts(): Promise<Concert[] | null> {
  const answer = await api<{ items: Concert[] }>('/v1/concerts');
  if (answer.ok) return answer.body.items;
  if (answer.status !== 401) complain(answer);
  return null;
}

export async function concertsPage(): Promise<void> {
  const region = byId('concerts');
  const concerts = await loadConcerts();
  done('concerts');
  if (concerts === null) {
    region.replaceChildren(el('p', {}, tr('signInHint')));
    return;
  }
  if (concerts.length === 0) {
    region.replaceChildren(el('p', {}, tr('noConcerts')));
    return;
  }
  region.replaceChildren(
    el(
      'ul',
      { class: 'cards' },
      ...concerts.map((concert) =>
        el(
          'li',
          {},
          el(
            'a',
            { href: `/concerts/${concert.id}` },
            el('strong', {}, concert.title),
            el('span', { class: 'muted' }, concert.venue),
          ),
        ),
      ),
    ),
  );
}

export async function concertPage(): Promise<void> {
  const concertId = data.params.concertId ?? '';
  const region = byId('schedules');
  const [concerts, schedules] = await Promise.all([
    loadConcerts(),
    api<{ items: Schedule[] }>(`/v1/concerts/${concertId}/schedules`),
  ]);
  done('schedules');
  const concert = concerts?.find((c) => c.id === concertId);
  if (concert) {
    byId('main').querySelector('h1')!.textContent = concert.title;
    document.title = `${concert.title} · ${tr('siteName')}`;
    region.before(el('p', { class: 'muted' }, concert.venue), el('h2', {}, tr('schedulesTitle')));
  }
  if (!schedules.ok) {
    region.replaceChildren(el('p', {}, schedules.status === 404 ? tr('notFound') : tr('signInHint')));
    if (schedules.status !== 404 && schedules.status !== 401) complain(schedules);
    return;
  }
  region.replaceChildren(
    el(
      'ul',
      { class: 'cards' },
      ...schedules.body.items.map((schedule) =>
        el(
          'li',
          {},
          el(
            'a',
            { href: `/concerts/${concertId}/queue?schedule=${schedule.id}` },
            el('strong', {}, dateTime(schedule.startsAt)),
            el('span', { class: 'muted' }, tr('availableSeats', { count: schedule.availableSeats })),
            el('span', { class: 'button' }, tr('chooseDate')),
          ),
        ),
      ),
    ),
  );
}
