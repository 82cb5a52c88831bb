import { api, claims, complain } from './api.ts';
import { loadConcerts } from './catalogue.ts';
import { eventList, salesTable } from './console-reads.ts';
import { announce, byId, done, duration, el, sleep, tr } from './core.ts';
import type { Concert, ConcertEvent, QueueAdminView, ScheduleSales } from './types.ts';

const refreshMs = 2000;
const eventsShown = 10;

/**
 * Per concert: the live line and its settings, every change a PUT /v1/admin/queues/{id}; sales per date
 * and the recent events, all refreshed together from the admin API.
 */
export async function adminPage(): Promise<void> {
  const region = byId('admin');
  if (claims().role !== 'admin') {
    done('admin');
    region.replaceChildren(el('p', {}, tr('adminNeedsRole')));
    return;
  }
  const concerts = (await loadConcerts()) ?? [];
  const panels = concerts.map(panel);
  // Shown once filled, so no one edits a field that the first answer would then overwrite.
  await Promise.all(panels.map((p) => p.refresh()));
  done('admin');
  region.replaceChildren(...(panels.length ? panels.map((p) => p.element) : [el('p', {}, tr('noConcerts'))]));
  for (;;) {
    await sleep(refreshMs);
    await Promise.all(panels.map((p) => p.refresh()));
  }
}

function panel(concert: Concert) {
  const ids = (name: string) => `c${concert.id}-${name}`;
  const values = new Map<string, HTMLElement>();
  const stat = (name: string, label: string) => {
    const value = el('dd', { id: ids(name) }, '–');
    values.set(name, value);
    return el('div', {}, el('dt', {}, label), value);
  };
  const setStat = (name: string, text: string) => {
    values.get(name)!.textContent = text;
  };
  const field = (name: string, label: string, type: string, extra: Record<string, string | number> = {}) =>
    el('p', {}, el('label', { for: ids(name) }, label), el('input', { id: ids(name), name, type, ...extra }));
  const heading = el('h2', { id: ids('title') }, concert.title);
  const badge = el('span', { class: 'badge', id: ids('state') }, '');
  const toggle = el('button', { type: 'button', id: ids('toggle') }, tr('pause'));
  const form = el(
    'form',
    { class: 'inline-form', 'aria-labelledby': ids('title') },
    field('maxActive', tr('maxActive'), 'number', { min: 1, max: 1_000_000 }),
    field('admitPerSecond', tr('admitPerSecond'), 'number', { min: 1, max: 100_000 }),
    field('opensAt', tr('opensAtLabel'), 'datetime-local'),
    el(
      'p',
      {},
      el('label', { for: ids('admission') }, tr('admission')),
      el(
        'select',
        { id: ids('admission'), name: 'admission' },
        el('option', { value: 'fixed' }, tr('admissionFixed')),
        el('option', { value: 'adaptive' }, tr('admissionAdaptive')),
      ),
    ),
    field('minAdmitPerSecond', tr('minAdmit'), 'number', { min: 1, max: 100_000 }),
    field('maxAdmitPerSecond', tr('maxAdmit'), 'number', { min: 1, max: 100_000 }),
    el('button', { type: 'submit' }, tr('save')),
  );
  const admission = el('p', { id: ids('admission-now'), class: 'muted' }, '');
  const sales = el('div', { id: ids('sales') }, tr('loading'));
  const events = el('div', { id: ids('events') }, tr('loading'));
  const element = el(
    'section',
    { class: 'card', 'aria-labelledby': ids('title'), 'data-concert': concert.id },
    heading,
    el('p', {}, badge, ' ', toggle),
    el(
      'dl',
      { class: 'stats', 'aria-live': 'off' },
      stat('waiting', tr('waiting')),
      stat('active', tr('active')),
      stat('rate', tr('admittedPerSecond')),
      stat('eta', tr('etaLast')),
    ),
    admission,
    form,
    el('h3', {}, tr('salesTitle')),
    sales,
    el('h3', {}, tr('eventsTitle')),
    events,
  );
  const input = (name: string) => form.querySelector<HTMLInputElement>(`[name="${name}"]`)!;
  const mode = form.querySelector<HTMLSelectElement>('[name="admission"]')!;
  const optional = (name: string) => (input(name).value === '' ? null : Number(input(name).value));
  let view: QueueAdminView | undefined;
  let filled = false;

  const show = (next: QueueAdminView) => {
    view = next;
    setStat('waiting', String(next.waiting + next.preRegistered));
    setStat('active', `${next.active} / ${next.maxActive}`);
    setStat('rate', next.admissionRatePerSecond.toFixed(1));
    setStat(
      'eta',
      next.waiting > 0 && next.admissionRatePerSecond > 0
        ? duration(next.waiting / next.admissionRatePerSecond)
        : '–',
    );
    badge.textContent = next.paused ? tr('pausedBadge') : tr('runningBadge');
    badge.dataset.paused = String(next.paused);
    toggle.textContent = next.paused ? tr('resume') : tr('pause');
    const now = tr('admissionNow', {
      rate: next.admitPerSecond,
      mode: next.admission === 'adaptive' ? tr('admissionAdaptiveNow') : tr('admissionFixedNow'),
    });
    const last =
      next.admission === 'adaptive' && next.admissionReason && next.admissionChangedAt
        ? ` ${tr('admissionLast', { time: new Date(next.admissionChangedAt).toLocaleTimeString(), reason: next.admissionReason })}`
        : '';
    admission.textContent = now + last;
    if (!filled) {
      filled = true;
      input('maxActive').value = String(next.maxActive);
      input('admitPerSecond').value = String(next.admitPerSecond);
      input('opensAt').value = next.opensAt ? localInput(next.opensAt) : '';
      mode.value = next.admission;
      input('minAdmitPerSecond').value =
        next.minAdmitPerSecond === null ? '' : String(next.minAdmitPerSecond);
      input('maxAdmitPerSecond').value =
        next.maxAdmitPerSecond === null ? '' : String(next.maxAdmitPerSecond);
    }
  };

  const put = async (body: Record<string, unknown>) => {
    const answer = await api<QueueAdminView>(`/v1/admin/queues/${concert.id}`, { method: 'PUT', body });
    if (!answer.ok) return complain(answer);
    show(answer.body);
    return answer.body;
  };

  toggle.addEventListener('click', async () => {
    const next = await put({ paused: !(view?.paused ?? false) });
    if (next) announce(`${concert.title}: ${next.paused ? tr('pausedBadge') : tr('runningBadge')}`);
  });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const opensAt = input('opensAt').value;
    const adaptive = mode.value === 'adaptive';
    const next = await put({
      maxActive: Number(input('maxActive').value),
      // Under adaptive admission the admit trigger sets the rate (within the bounds); the field then only
      // shows it.
      ...(adaptive ? {} : { admitPerSecond: Number(input('admitPerSecond').value) }),
      opensAt: opensAt ? new Date(opensAt).toISOString() : null,
      admission: mode.value,
      minAdmitPerSecond: optional('minAdmitPerSecond'),
      maxAdmitPerSecond: optional('maxAdmitPerSecond'),
    });
    if (next) announce(tr('saved'));
  });

  const refresh = async () => {
    try {
      const [line, sold, latest] = await Promise.all([
        api<QueueAdminView>(`/v1/admin/queues/${concert.id}`),
        api<{ items: ScheduleSales[] }>(`/v1/admin/concerts/${concert.id}/sales`),
        api<{ items: ConcertEvent[] }>(`/v1/admin/concerts/${concert.id}/events?limit=${eventsShown}`),
      ]);
      if (line.ok) show(line.body);
      if (sold.ok) sales.replaceChildren(salesTable(sold.body.items));
      if (latest.ok) events.replaceChildren(eventList(latest.body.items));
    } catch {
      // The next refresh tells.
    }
  };
  return { element, refresh };
}

/** An ISO time as the value of a datetime-local input (the operator's local time). */
function localInput(iso: string): string {
  const date = new Date(iso);
  return new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}
