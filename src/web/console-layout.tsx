import type { ComponentChildren } from 'preact';
import { PostForm } from './form';

export type ConsoleLanguage = 'fr' | 'en';

/** Who is looking at a page, as the layout needs it (staff/access's StaffContext is one). */
export interface ConsoleViewer {
  readonly user: { readonly roles: readonly string[] };
  readonly session: { readonly csrfToken: string };
}

/**
 * Pages listed in the navigation, each with the roles that may open it (no roles: every signed-in
 * viewer). Only what is shown: each route checks its own access (staff/access's allow()).
 */
const NAV: ReadonlyArray<{ path: string; key: string; roles?: readonly string[] }> = [
  { path: '/console', key: 'console.nav_home' },
  { path: '/console/hotline', key: 'console.nav_hotline', roles: ['hotline_agent', 'admin'] },
  { path: '/console/hotline/figures', key: 'console.nav_hotline_figures', roles: ['admin', 'partner_viewer'] },
  { path: '/console/indicators', key: 'console.nav_indicators', roles: ['admin', 'partner_viewer'] },
  { path: '/console/hotline/rota', key: 'console.nav_rota', roles: ['admin'] },
  { path: '/console/campaigns', key: 'console.nav_campaigns', roles: ['campaign_manager', 'admin'] },
  { path: '/console/subscribers', key: 'console.nav_subscribers', roles: ['campaign_manager', 'admin'] },
  { path: '/console/results', key: 'console.nav_results', roles: ['campaign_manager', 'admin'] },
  { path: '/console/sms-emulator', key: 'console.nav_emulator', roles: ['campaign_manager', 'admin'] },
  { path: '/console/phone', key: 'phone.nav', roles: ['campaign_manager', 'admin'] },
  { path: '/console/audit', key: 'console.nav_audit', roles: ['admin'] },
];

/** A page whose parts refresh themselves (LIVE_SCRIPT), and refreshes whole without JavaScript. */
export function LiveHead({ seconds }: { seconds: number }) {
  return (
    <>
      <noscript><meta http-equiv="refresh" content={String(seconds)} /></noscript>
      <script src="/console/assets/live.js" defer></script>
    </>
  );
}

export interface ConsoleLayoutProps {
  lang: ConsoleLanguage;
  title: string;
  /** Texts of the frame in the page's language. */
  t: (key: string) => string;
  /** The same page in the other language: its query with lang switched. */
  otherLanguage: { lang: ConsoleLanguage; query: string };
  viewer?: ConsoleViewer;
  head?: ComponentChildren;
  children?: ComponentChildren;
}

/** The frame every console page shares: skip link, navigation for the viewer's roles, sign-out, language switch. */
export function ConsoleLayout(props: ConsoleLayoutProps) {
  const { t, viewer } = props;
  return (
    <html lang={props.lang}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width,initial-scale=1" />
        <title>{props.title} - safeline</title>
        <link rel="stylesheet" href="/console/assets/console.css" />
        {props.head}
      </head>
      <body>
        <a class="skip" href="#main">{t('console.skip')}</a>
        <header>
          <strong>safeline</strong>
          {viewer ? (
            <>
              <nav aria-label="main">
                <ul>
                  {NAV.filter((item) => !item.roles || item.roles.some((role) => viewer.user.roles.includes(role))).map((item) => (
                    <li><a href={item.path}>{t(item.key)}</a></li>
                  ))}
                </ul>
              </nav>
              <PostForm class="inline" action="/console/logout" csrfToken={viewer.session.csrfToken}>
                <button>{t('console.nav_logout')}</button>
              </PostForm>
            </>
          ) : null}
          <a href={`?${props.otherLanguage.query}`} lang={props.otherLanguage.lang}>{t('console.language')}</a>
        </header>
        <main id="main">{props.children}</main>
      </body>
    </html>
  );
}
