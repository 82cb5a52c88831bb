import type { Lang, Strings } from './i18n.ts';

/** What the server tells the client script about the page it rendered (a JSON script element). */
export type PageName =
  | 'concerts'
  | 'concert'
  | 'queue'
  | 'seats'
  | 'pay'
  | 'confirmation'
  | 'reservations'
  | 'admin';

export interface PageData {
  page: PageName;
  lang: Lang;
  strings: Strings;
  /** Whether POST /v1/dev/tokens exists (embedded/dev mode): the page then offers the dev sign-in. */
  devAuth: boolean;
  /** Path and query parameters of the page: concertId, scheduleId, reservationId. */
  params: Record<string, string>;
}

export const pageDataId = 'page-data';
