import { format } from './format.ts';
import type { Strings } from './i18n.ts';
import { Loading } from './layout.tsx';
import type { PageName } from './page-data.ts';

/**
 * The server-rendered part of each page: headings, forms and the regions the client script fills from the
 * API (it holds the user's token, the server does not).
 */
export function pageBody(page: PageName, t: Strings) {
  switch (page) {
    case 'concerts':
      return { title: t.concertsTitle, body: <Loading t={t} id="concerts" /> };
    case 'concert':
      return {
        title: t.schedulesTitle,
        body: <Loading t={t} id="schedules" />,
      };
    case 'queue':
      return {
        title: t.waitingTitle,
        body: (
          <div id="queue" aria-busy="true">
            <p id="queue-opens" hidden />
            <p id="queue-paused" class="notice" hidden>
              {t.paused}
            </p>
            <dl class="stats">
              <div>
                <dt>{t.position}</dt>
                <dd id="queue-position">–</dd>
              </div>
              <div>
                <dt>{t.eta}</dt>
                <dd id="queue-eta">–</dd>
              </div>
            </dl>
            <label for="queue-progress">{t.progress}</label>
            <progress id="queue-progress" max={100} value={0} />
            <p id="queue-mode" class="muted" />
            <p id="queue-turn" hidden>
              <a id="queue-go" class="button" href="#main">
                {t.goToSeats}
              </a>
            </p>
          </div>
        ),
      };
    case 'seats':
      return {
        title: t.seatsTitle,
        body: (
          <>
            <section id="hold" class="hold" aria-labelledby="hold-text" hidden>
              <p id="hold-text" />
              <div class="actions">
                <a id="hold-pay" class="button" href="#main">
                  {t.toPayment}
                </a>
                <button id="hold-cancel" type="button" class="secondary">
                  {t.cancelHold}
                </button>
              </div>
            </section>
            <fieldset class="seat-map">
              <legend>{t.seatLegend}</legend>
              <Loading t={t} id="seats" />
            </fieldset>
          </>
        ),
      };
    case 'pay':
      return {
        title: t.paymentTitle,
        body: (
          <div id="payment" aria-busy="true">
            <dl class="stats">
              <div>
                <dt>{t.price}</dt>
                <dd id="pay-price">–</dd>
              </div>
              <div>
                <dt>{t.balance}</dt>
                <dd id="pay-balance">–</dd>
              </div>
            </dl>
            <p id="hold-left" class="muted" />
            <form id="topup" class="inline-form" hidden>
              <p id="topup-short" />
              <label for="topup-amount">{t.topUpAmount}</label>
              <input id="topup-amount" name="amount" type="number" min={1} max={10000000} required />
              <button type="submit">{t.topUp}</button>
            </form>
            <p id="pay-retry" class="notice" hidden>
              {t.payRetry}
            </p>
            <button id="pay-button" type="button" disabled>
              {format(t.pay, { amount: '' }).trim()}
            </button>
          </div>
        ),
      };
    case 'confirmation':
      return { title: t.confirmationTitle, body: <Loading t={t} id="confirmation" /> };
    case 'reservations':
      return { title: t.reservationsTitle, body: <Loading t={t} id="reservations" /> };
    case 'admin':
      return {
        title: t.adminTitle,
        body: <Loading t={t} id="admin" />,
      };
  }
}
