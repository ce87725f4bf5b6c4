import { parse as parseCookies } from 'cookie';
import type { Request, Response } from 'express';
import type { ComponentChildren } from 'preact';
import { CONSOLE_CSS, LIVE_SCRIPT } from './console-assets';
import { ConsoleLayout, type ConsoleLanguage, type ConsoleViewer } from './console-layout';
import { renderPage } from './render';

/** A text in a language (texts/'s Texts.t, given by whoever builds the shell). */
export type Translate = (language: string, key: string, vars?: Readonly<Record<string, string>>) => string;

export interface ConsoleShell {
  readonly css: string;
  readonly liveScript: string;
  languageOf: (req: Request) => ConsoleLanguage;
  /** A translated text in the request's console language: plain text, the components escape it. */
  t: (req: Request, key: string, vars?: Record<string, string>) => string;
  /** Sends a whole page: header, navigation for the viewer's roles, language switch, body. */
  page: (req: Request, res: Response, title: string, body: ComponentChildren, viewer?: ConsoleViewer, head?: ComponentChildren) => void;
}

/** The frame every console page shares (server-rendered, works without JavaScript, fr or en). */
export function createConsoleShell(translate: Translate): ConsoleShell {
  const languageOf = (req: Request): ConsoleLanguage => {
    const chosen = typeof req.query.lang === 'string' ? req.query.lang : parseCookies(req.headers.cookie ?? '').sl_lang;
    return chosen === 'en' ? 'en' : 'fr';
  };
  const t: ConsoleShell['t'] = (req, key, vars) => translate(languageOf(req), key, vars);
  const page: ConsoleShell['page'] = (req, res, title, body, viewer, head) => {
    const lang = languageOf(req);
    if (typeof req.query.lang === 'string') res.cookie('sl_lang', lang, { sameSite: 'strict', path: '/console' });
    const other: ConsoleLanguage = lang === 'fr' ? 'en' : 'fr';
    const url = req.originalUrl;
    const switchQuery = new URLSearchParams(url.includes('?') ? url.slice(url.indexOf('?') + 1) : '');
    switchQuery.set('lang', other);
    const otherLanguage = { lang: other, query: switchQuery.toString() };
    const frame = (key: string): string => translate(lang, key);
    const layout = { lang, title, t: frame, otherLanguage, viewer, head };
    res.type('html').send(renderPage(<ConsoleLayout {...layout}>{body}</ConsoleLayout>));
  };
  return { css: CONSOLE_CSS, liveScript: LIVE_SCRIPT, languageOf, t, page };
}
