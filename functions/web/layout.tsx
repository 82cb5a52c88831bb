import type { Child } from 'hono/jsx';
import type { Lang, Strings } from './i18n.ts';
import { type PageData, pageDataId } from './page-data.ts';

export const assetPaths = { script: '/assets/app.js', style: '/assets/app.css' } as const;

/**
 * The shell every page shares: language switch, navigation, the sign-in area and a polite live region the
 * client script speaks through. The page data goes in as JSON (not executed), so the CSP can forbid inline
 * scripts; `<` is escaped so no string can close the element.
 */
export function Shell(props: {
  data: PageData;
  title: string;
  /** The versioned URLs of the script and the style sheet. */
  assets: { script: string; style: string };
  switchHref: string;
  children: Child;
}) {
  const t = props.data.strings;
  const other: Lang = props.data.lang === 'ko' ? 'en' : 'ko';
  const json = JSON.stringify(props.data).replace(/</g, '\\u003c');
  return (
    <html lang={props.data.lang}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · ${t.siteName}`}</title>
        <link rel="stylesheet" href={props.assets.style} />
        <script type="module" src={props.assets.script} />
      </head>
      <body>
        <a class="skip" href="#main">
          {t.skipToContent}
        </a>
        <header class="top">
          <a class="brand" href="/">
            {t.siteName}
          </a>
          <nav aria-label={t.siteName}>
            <ul>
              <li>
                <a href="/">{t.navConcerts}</a>
              </li>
              <li>
                <a href="/me/reservations">{t.navReservations}</a>
              </li>
              <li>
                <a href={props.switchHref} hreflang={other} lang={other} data-lang-switch={other}>
                  {t.switchLanguage}
                </a>
              </li>
            </ul>
          </nav>
        </header>
        <section id="account" class="account" aria-label={t.signIn} />
        <main id="main" tabindex={-1}>
          <h1>{props.title}</h1>
          {props.children}
        </main>
        <p id="announcer" class="visually-hidden" role="status" aria-live="polite" />
        <p id="alert" class="alert" role="alert" hidden />
        <script type="application/json" id={pageDataId} dangerouslySetInnerHTML={{ __html: json }} />
      </body>
    </html>
  );
}

export function Loading(props: { t: Strings; id: string }) {
  return (
    <div id={props.id} aria-busy="true">
      <p class="muted">{props.t.loading}</p>
    </div>
  );
}
