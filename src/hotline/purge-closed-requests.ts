import type { Logger } from '../platform/logger';
import type { HotlineStore } from './hotline-store';
import type { WithLock } from '../platform/redis-lock';

export const HOTLINE_MAINTENANCE_QUEUE = 'hotline-maintenance';
export const PURGE_CLOSED_REQUESTS = 'purge-closed-requests';

/**
 * Erases what could identify a caller from requests closed more than `retentionDays` ago: the
 * sealed number, its hash and the agents' notes. What stays (region, language, urgency, times,
 * outcome) feeds the figures and names no one. A scheduled job, not a TTL index: the record and
 * its statistics must outlive the number.
 */
export async function purgeClosedRequests(
  deps: { store: HotlineStore; withLock: WithLock; now(): Date; logger: Logger },
  retentionDays: number,
): Promise<number> {
  const cutoff = new Date(deps.now().getTime() - retentionDays * 86_400_000);
  let purged = 0;
  for (;;) {
    const batch = await deps.store.purgeable(cutoff, 200);
    if (batch.length === 0) break;
    for (const request of batch) {
      await deps.withLock(`request:${request._id}`, () =>
        deps.store.updateRequest(request._id, {
          phoneSealed: null,
          phoneHash: null,
          closingNote: '',
          attempts: request.attempts.map((attempt) => ({ ...attempt, note: '' })),
          purgedAt: deps.now(),
        }),
      );
      if (request.phoneHash) await deps.store.clearOpenPointer(request.phoneHash, request._id);
      purged += 1;
    }
  }
  if (purged) deps.logger.info({ purged, retentionDays }, 'erased the numbers of closed callback requests');
  return purged;
}
