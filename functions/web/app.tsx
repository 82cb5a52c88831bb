import { createHash } from 'node:crypto';
import type { Context } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { AppError } from '../../shared/errors.ts';
import type { AppEnv } from '../../shared/http/env.ts';
import { createRouter } from '../../shared/http/router.ts';
import type { ClientScript } from './assets.ts';
import { dictionaries, type Lang, languages, pickLanguage } from './i18n.ts';
import { assetPaths, Shell } from './layout.tsx';
import type { PageData, PageName } from './page-data.ts';
import { pageBody } from './pages.tsx';
import { styles } from './styles.ts';

export interface WebDeps {
  devAuth: boolean;
  script: ClientScript;
}

const langCookie = 'lang';
const id = /^\d{1,18}$/;
// Pages load only their own script and style and talk only to this origin; frame-ancestors stays open to
// the host applications that embed the pages (docs/web.md).
const csp =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
  "base-uri 'none'; form-action 'self'";

/** A short content hash: the asset's version in its URL and its strong ETag. */
const versionOf = (text: string) => createHash('sha256').update(text).digest('base64url').slice(0, 16);

/**
 * Assets are addressed by content (`?v=<hash>` in the pages' links), so an answer for the current version
 * may be kept for a year by browsers and the CDN, and a deploy changes the links instead of waiting for
 * caches to expire. A request for another version (an old page, a hand-typed URL) is answered `no-cache`.
 */
function serveAsset(c: Context<AppEnv>, text: string, contentType: string) {
  const version = versionOf(text);
  const etag = `"${version}"`;
  c.header('Content-Type', contentType);
  c.header('ETag', etag);
  c.header(
    'Cache-Control',
    c.req.query('v') === version ? 'public, max-age=31536000, immutable' : 'no-cache',
  );
  if (
    c.req
      .header('if-none-match')
      ?.split(/\s*,\s*/)
      .includes(etag)
  )
    return c.body(null, 304);
  return c.body(text);
}

/** The fan pages and the operator console: HTML shells whose script calls the public API. */
export function webRoutes(deps: WebDeps) {
  const app = createRouter();
  const styleUrl = `${assetPaths.style}?v=${versionOf(styles)}`;

  const render = async (c: Context<AppEnv>, page: PageName, params: Record<string, string> = {}) => {
    for (const value of Object.values(params)) {
      if (!id.test(value)) throw new AppError('NOT_FOUND', 'No such page');
    }
    const lang = chosenLanguage(c);
    const strings = dictionaries[lang];
    const { title, body } = pageBody(page, strings);
    const assets = { script: `${assetPaths.script}?v=${versionOf(await deps.script())}`, style: styleUrl };
    const data: PageData = { page, lang, strings, devAuth: deps.devAuth, params };
    c.header('Content-Security-Policy', csp);
    c.header('Cache-Control', 'no-store');
    c.header('Content-Language', lang);
    c.header('Vary', 'Accept-Language, Cookie', { append: true });
    return c.html(
      `<!doctype html>${(
        <Shell
          data={data}
          title={title}
          assets={assets}
          switchHref={switchHref(c.req.url, lang === 'ko' ? 'en' : 'ko')}
        >
          {body}
        </Shell>
      )}`,
    );
  };

  app.get('/', (c) => render(c, 'concerts'));
  app.get('/concerts/:concertId', (c) => render(c, 'concert', c.req.param()));
  app.get('/concerts/:concertId/queue', (c) =>
    render(c, 'queue', withQuery(c.req.param(), 'scheduleId', c.req.query('schedule'))),
  );
  app.get('/concerts/:concertId/schedules/:scheduleId/seats', (c) => render(c, 'seats', c.req.param()));
  app.get('/reservations/:reservationId/pay', (c) =>
    render(c, 'pay', withQuery(c.req.param(), 'concertId', c.req.query('concert'))),
  );
  app.get('/reservations/:reservationId', (c) => render(c, 'confirmation', c.req.param()));
  app.get('/me/reservations', (c) => render(c, 'reservations'));
  app.get('/admin', (c) => render(c, 'admin'));

  app.get(assetPaths.script, async (c) =>
    serveAsset(c, await deps.script(), 'text/javascript; charset=utf-8'),
  );
  app.get(assetPaths.style, (c) => serveAsset(c, styles, 'text/css; charset=utf-8'));
  return app;
}

/** `?lang=` switches and is remembered in a cookie; otherwise the cookie, then Accept-Language. */
function chosenLanguage(c: Context<AppEnv>): Lang {
  const asked = c.req.query('lang');
  if (asked && (languages as readonly string[]).includes(asked)) {
    setCookie(c, langCookie, asked, { path: '/', sameSite: 'Lax', maxAge: 365 * 24 * 3600 });
    return asked as Lang;
  }
  return pickLanguage(getCookie(c, langCookie), c.req.header('accept-language'));
}

/** The same page in the other language: the query (a schedule, a concert) stays, `lang` changes. */
function switchHref(requestUrl: string, lang: Lang): string {
  const url = new URL(requestUrl);
  url.searchParams.set('lang', lang);
  return `${url.pathname}${url.search}`;
}

function withQuery(params: Record<string, string>, name: string, value: string | undefined) {
  return value === undefined ? params : { ...params, [name]: value };
}
