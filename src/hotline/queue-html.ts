import { escapeHtml as escape } from '../staff/console-shell';
import { OPEN_STATUSES } from './callback-policy';
import type { QueueFilters, QueuePage } from './queue-page';

type Translate = (key: string, vars?: Record<string, string>) => string;

const COLUMNS = ['reference', 'urgency', 'due', 'window', 'region', 'language', 'status', 'agent'];
const when = (at: Date | null): string => (at ? at.toISOString().slice(0, 16).replace('T', ' ') : '');

/** The queue's own URL with these filters and page, so links and the live refresh keep both. */
export function queueQuery(filters: QueueFilters, page?: number): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(filters)) if (typeof value === 'string' && value) query.set(key, value);
  if (page && page > 1) query.set('page', String(page));
  const text = query.toString();
  return text ? `?${text}` : '';
}

/** Which page numbers to offer: all of a few, else the first, the last and two either side of this one. */
function pageNumbers(page: number, pages: number): number[] {
  if (pages <= 9) return Array.from({ length: pages }, (_, index) => index + 1);
  const near = [1, pages, ...Array.from({ length: 5 }, (_, index) => page - 2 + index)].filter((n) => n >= 1 && n <= pages);
  return [...new Set(near)].sort((a, b) => a - b);
}

function pager(view: QueuePage, filters: QueueFilters, t: Translate): string {
  if (view.pages <= 1) return '';
  const link = (page: number, label: string, rel = '') =>
    `<a href="/console/hotline${escape(queueQuery(filters, page))}"${rel}>${label}</a>`;
  const numbers = pageNumbers(view.page, view.pages)
    .map((n) => (n === view.page ? `<li><strong aria-current="page">${n}</strong></li>` : `<li>${link(n, String(n))}</li>`))
    .join('');
  const previous = view.page > 1 ? `<li>${link(view.page - 1, t('console.hotline.previous_page'), ' rel="prev"')}</li>` : '';
  const next = view.page < view.pages ? `<li>${link(view.page + 1, t('console.hotline.next_page'), ' rel="next"')}</li>` : '';
  return `<nav class="pager" aria-label="${t('console.hotline.pages_label')}"><ul>${previous}${numbers}${next}</ul></nav>`;
}

function row(item: QueuePage['items'][number], t: Translate): string {
  return `<tr class="${item.overdue ? 'overdue' : ''}"><td><a href="/console/hotline/${item._id}">${item._id}</a>${item.overdue ? ` <strong>${t('console.hotline.overdue')}</strong>` : ''}</td>
<td><span class="badge ${escape(item.urgency)}">${t(`console.hotline.urgency.${item.urgency}`)}</span></td><td>${escape(when(item.dueAt))}</td>
<td>${t(`console.hotline.window.${item.window}`)}</td><td>${escape(item.region || '-')}</td><td>${escape(item.language)}</td>
<td>${t(`console.hotline.status.${item.status}`)}</td><td>${escape(item.claimedByName ?? '')}</td></tr>`;
}

/**
 * The live part of the queue page: the open counts (each a link to that status), where this page
 * sits, its rows and the page links. The page polls it with the same query, so it keeps its page.
 */
export function queueHtml(view: QueuePage, filters: QueueFilters, t: Translate): string {
  const counts = OPEN_STATUSES.map((status) => {
    const link = `<a href="/console/hotline${escape(queueQuery({ ...filters, status }))}">${t(`console.hotline.status.${status}`)}</a>`;
    return `<li>${link}: <span data-count="${status}">${view.counts[status]}</span></li>`;
  }).join('');
  const first = view.total === 0 ? 0 : (view.page - 1) * view.perPage + 1;
  const last = view.total === 0 ? 0 : first + view.items.length - 1;
  const where = t('console.hotline.page_of', { page: String(view.page), pages: String(view.pages), from: String(first), to: String(last), total: String(view.total) });
  const columns = COLUMNS.map((key) => `<th scope="col">${t(`console.hotline.col_${key}`)}</th>`).join('');
  const rows = view.items.length ? view.items.map((item) => row(item, t)).join('') : `<tr><td colspan="8">${t('console.hotline.empty')}</td></tr>`;
  const open = t('console.hotline.counts_open', { count: String(view.counts.open) });
  return `<section aria-label="${t('console.hotline.counts_label')}" class="counts"><p><strong>${open}</strong></p><ul>${counts}</ul></section>
<p class="where">${where}</p>
<table><thead><tr>${columns}</tr></thead><tbody>${rows}</tbody></table>
${pager(view, filters, t)}`;
}
