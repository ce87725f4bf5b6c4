import type { QueueFactory } from '../platform/queues';

export const RESULTS_QUEUE = 'results-maintenance';
/** Compares one campaign's quiz (data: campaignId), asked for from its page. */
export const COMPARE_CAMPAIGN = 'compare-campaign';
/** Compares every campaign that names a quiz: at start, then every hour. */
export const COMPARE_CAMPAIGNS = 'compare-campaigns';
/** Makes the counts that were left for later (Redis down, a lock held too long): every minute. */
export const COUNT_PENDING = 'count-pending';
export const COMPARE_EVERY_MS = 3_600_000;
export const COUNT_PENDING_EVERY_MS = 60_000;

export type ResultsJob = { task: string; campaignId?: string };

export const resultsQueueOf = (queues: QueueFactory) => queues.create<ResultsJob>(RESULTS_QUEUE);

/** Queues one campaign's comparison; asking again while one waits adds nothing (the job id). */
export async function queueComparison(queues: QueueFactory, campaignId: string): Promise<void> {
  await resultsQueueOf(queues).add(
    COMPARE_CAMPAIGN,
    { task: COMPARE_CAMPAIGN, campaignId },
    { jobId: `compare-${campaignId}`, removeOnComplete: true, removeOnFail: true, attempts: 3, backoff: 5_000 },
  );
}
