import { Table } from '../web/table';
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

function Pager({ view, filters, t }: { view: QueuePage; filters: QueueFilters; t: Translate }) {
  if (view.pages <= 1) return null;
  const href = (page: number): string => `/console/hotline${queueQuery(filters, page)}`;
  return (
    <nav class="pager" aria-label={t('console.hotline.pages_label')}>
      <ul>
        {view.page > 1 ? <li><a href={href(view.page - 1)} rel="prev">{t('console.hotline.previous_page')}</a></li> : null}
        {pageNumbers(view.page, view.pages).map((n) =>
          n === view.page ? <li><strong aria-current="page">{n}</strong></li> : <li><a href={href(n)}>{n}</a></li>,
        )}
        {view.page < view.pages ? <li><a href={href(view.page + 1)} rel="next">{t('console.hotline.next_page')}</a></li> : null}
      </ul>
    </nav>
  );
}

function Row({ item, t }: { item: QueuePage['items'][number]; t: Translate }) {
  // Every row has a class, overdue or on time: scripts and tests find the rows by it.
  return (
    <tr class={item.overdue ? 'overdue' : 'on-time'}>
      <td>
        <a href={`/console/hotline/${item._id}`}>{item._id}</a>
        {item.overdue ? <> <strong>{t('console.hotline.overdue')}</strong></> : null}
      </td>
      <td><span class={`badge ${item.urgency}`}>{t(`console.hotline.urgency.${item.urgency}`)}</span></td><td>{when(item.dueAt)}</td>
      <td>{t(`console.hotline.window.${item.window}`)}</td><td>{item.region || '-'}</td><td>{item.language}</td>
      <td>{t(`console.hotline.status.${item.status}`)}</td><td>{item.claimedByName ?? ''}</td>
    </tr>
  );
}

/**
 * The live part of the queue page: the open counts (each a link to that status), where this page
 * sits, its rows and the page links. The page polls it with the same query, so it keeps its page.
 */
export function QueueBlock({ view, filters, t }: { view: QueuePage; filters: QueueFilters; t: Translate }) {
  const first = view.total === 0 ? 0 : (view.page - 1) * view.perPage + 1;
  const last = view.total === 0 ? 0 : first + view.items.length - 1;
  const where = { page: String(view.page), pages: String(view.pages), from: String(first), to: String(last), total: String(view.total) };
  return (
    <>
      <section aria-label={t('console.hotline.counts_label')} class="counts">
        <p><strong>{t('console.hotline.counts_open', { count: String(view.counts.open) })}</strong></p>
        <ul>
          {OPEN_STATUSES.map((status) => (
            <li>
              <a href={`/console/hotline${queueQuery({ ...filters, status })}`}>{t(`console.hotline.status.${status}`)}</a>:{' '}
              <span data-count={status}>{view.counts[status]}</span>
            </li>
          ))}
        </ul>
      </section>
      <p class="where">{t('console.hotline.page_of', where)}</p>
      <Table columns={COLUMNS.map((key) => t(`console.hotline.col_${key}`))}>
        {view.items.length
          ? view.items.map((item) => <Row item={item} t={t} />)
          : <tr><td colspan={8}>{t('console.hotline.empty')}</td></tr>}
      </Table>
      <Pager view={view} filters={filters} t={t} />
    </>
  );
}
