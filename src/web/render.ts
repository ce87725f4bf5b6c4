import { Fragment, h, type ComponentChildren } from 'preact';
import { renderToString } from 'preact-render-to-string';

/**
 * An SVG shape without children, as preact writes it (`<rect ...></rect>`). Exact: preact escapes `<`
 * in every text and attribute, so `<rect` is always a tag, and a start tag with no `<` or `>` in it
 * followed at once by its end tag is an element with nothing inside.
 */
const EMPTY_SVG_SHAPE = /<(rect|line|path|polyline|polygon|circle|ellipse)((?:\s[^<>]*)?)><\/\1>/g;

/**
 * Components to HTML. Every string in a text or an attribute is escaped (`&`, `<`, `"`; attributes are
 * always in double quotes, so `'` and `>` cannot end one); nothing here writes raw HTML. Empty SVG
 * shapes are written self-closed, as the console always wrote them.
 */
export function renderFragment(children: ComponentChildren): string {
  return renderToString(h(Fragment, null, children)).replace(EMPTY_SVG_SHAPE, '<$1$2/>');
}

/** A whole page: the doctype, then the `<html>` element. */
export function renderPage(html: ComponentChildren): string {
  return `<!doctype html>${renderFragment(html)}`;
}
