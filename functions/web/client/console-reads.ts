import { data, dateTime, el, tr } from './core.ts';
import type { ConcertEvent, ScheduleSales } from './types.ts';

/** Sales per date as a table: a row per schedule, its seats available, held (live holds) and sold. */
export function salesTable(items: ScheduleSales[]): HTMLElement {
  if (items.length === 0) return el('p', {}, tr('noSchedules'));
  const count = (name: 'available' | 'held' | 'sold', value: number) =>
    el('td', { 'data-count': name }, String(value));
  return el(
    'table',
    { class: 'sales' },
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        el('th', { scope: 'col' }, tr('salesDate')),
        el('th', { scope: 'col' }, tr('salesAvailable')),
        el('th', { scope: 'col' }, tr('salesHeld')),
        el('th', { scope: 'col' }, tr('salesSold')),
      ),
    ),
    el(
      'tbody',
      {},
      ...items.map((s) =>
        el(
          'tr',
          { 'data-schedule': s.scheduleId },
          el('th', { scope: 'row' }, dateTime(s.startsAt)),
          count('available', s.available),
          count('held', s.held),
          count('sold', s.sold),
        ),
      ),
    ),
  );
}

/** The latest events, newest first: time, topic, key and the data in one short line. */
export function eventList(items: ConcertEvent[]): HTMLElement {
  if (items.length === 0) return el('p', {}, tr('noEvents'));
  return el(
    'ol',
    { class: 'events' },
    ...items.map((e) =>
      el(
        'li',
        { 'data-topic': e.topic },
        el('time', { datetime: e.time }, timeOfDay(e.time)),
        ' ',
        el('strong', {}, e.topic),
        ' ',
        el('span', { class: 'muted' }, summary(e)),
      ),
    ),
  );
}

const maxSummary = 120;

function summary(e: ConcertEvent): string {
  const fields =
    e.data !== null && typeof e.data === 'object'
      ? Object.entries(e.data as Record<string, unknown>).map(([name, value]) => `${name}=${String(value)}`)
      : [];
  const text = [tr('eventKey', { key: e.key }), ...fields].join(' · ');
  return text.length > maxSummary ? `${text.slice(0, maxSummary - 1)}…` : text;
}

/** Today's events by their time of day (seconds count on a busy line); older ones with their date. */
function timeOfDay(iso: string): string {
  const date = new Date(iso);
  if (date.toDateString() !== new Date().toDateString()) return dateTime(iso);
  return date.toLocaleTimeString(data.lang === 'ko' ? 'ko-KR' : 'en-US');
}
