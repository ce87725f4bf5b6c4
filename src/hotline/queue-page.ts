import { OPEN_STATUSES, isOpen } from './callback-policy';
import type { CallbackRequest, HotlineStore } from './hotline-store';

export const QUEUE_PAGE_SIZE = 50;

/** What an agent sees of a request: everything but the number. */
export function queueView(request: CallbackRequest, now: Date) {
  const { phoneSealed: _sealed, phoneHash: _hash, ...rest } = request;
  return { ...rest, overdue: isOpen(request.status) && request.dueAt.getTime() < now.getTime(), numberErased: request.purgedAt !== null };
}

export interface QueueFilters {
  status?: string;
  region?: string;
  language?: string;
}

/**
 * One page of the agents' queue, most urgent then soonest due first, with the counts an agent
 * needs to see what is left: open requests per status under the same region and language.
 * A page past the end (requests closed meanwhile) shows the last one. Closed requests, asked
 * for by status, are paged by the store.
 */
export async function queuePageOf(store: HotlineStore, filters: QueueFilters, requestedPage: number, perPage: number, now: Date) {
  const open = await store.openQueue(filters);
  const counts = Object.fromEntries(OPEN_STATUSES.map((status) => [status, open.filter((request) => request.status === status).length]));
  const closedPage = (page: number) => store.queuePage({ ...filters, statuses: [filters.status ?? ''] }, page, perPage);
  const closed = filters.status && !isOpen(filters.status) ? await closedPage(Math.max(1, requestedPage)) : undefined;
  const matching = closed ? [] : open.filter((request) => !filters.status || request.status === filters.status);
  const total = closed ? closed.total : matching.length;
  const pages = Math.max(1, Math.ceil(total / perPage));
  const page = Math.min(Math.max(1, requestedPage), pages);
  let items = matching.slice((page - 1) * perPage, page * perPage);
  if (closed) items = page === requestedPage ? closed.items : (await closedPage(page)).items;
  return {
    items: items.map((item) => queueView(item, now)),
    page,
    pages,
    perPage,
    total,
    counts: { open: open.length, ...counts } as Record<'open' | (typeof OPEN_STATUSES)[number], number>,
  };
}

export type QueuePage = Awaited<ReturnType<typeof queuePageOf>>;
