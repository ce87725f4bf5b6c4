import type { JobOptions } from 'bull';
import type { JsonObject } from '../platform/queues';

export const CAMPAIGN_QUEUE = 'campaigns';
export const FAN_OUT = 'fan-out';
export const SEND_BATCH = 'send-batch';
export const CHECK_RELATIVE = 'check-relative';
export const ARCHIVE_RUN = 'archive-run';

/** Walk a run's audience and queue its batches. */
export interface FanOutJob extends JsonObject {
  campaignId: string;
  runId: string;
  /** ISO time the run started: batches are planned from it. */
  startedAt: string;
  /** Relative campaigns: only subscribers who joined in [joinedAfter, joinedBefore) (ISO), "" for no bound. */
  joinedBefore: string;
  joinedAfter: string;
}

/** Send one batch (its recipients are in MongoDB, not in Redis). */
export interface SendBatchJob extends JsonObject {
  campaignId: string;
  batchId: string;
}

/** An ended run's report period is over: keep its final figures in MongoDB and drop its Redis keys. */
export interface ArchiveRunJob extends JsonObject {
  campaignId: string;
  runId: string;
}

/** Every payload of the campaigns queue. */
export type CampaignJob = FanOutJob | SendBatchJob | ArchiveRunJob;

export interface CampaignSettings {
  batchSize: number;
  pricePerPart: number;
  /** The gateway's ceiling for every campaign together. */
  maxPerSecond: number;
  /** Retries of a recipient's transient failure before it counts as failed. */
  maxRetries: number;
  /** First retry of a transient failure after this long, then 4 times longer each time. */
  retryDelayMs: number;
  /** An ended run's live counters stay in Redis this long (delivery reports still come in). */
  reportPeriodMs: number;
}

// A send job is retried only for whole-call transient failures (5xx, timeouts); jobId = batch id.
// A finished job is dropped at once: its batch document says what it did, and a record kept per batch
// would make Redis grow with the audience (a million recipients, ten thousand batches). Nothing
// relies on a kept record to refuse a second job for a batch: the batch's lease and status do.
export const SEND_JOB_OPTIONS: JobOptions = {
  attempts: 6,
  backoff: { type: 'exponential', delay: 2_000 },
  removeOnComplete: true,
  removeOnFail: 1_000,
};
export const ARCHIVE_JOB_OPTIONS: JobOptions = {
  attempts: 20,
  backoff: { type: 'exponential', delay: 5_000 },
  removeOnComplete: true,
  removeOnFail: 1_000,
};
export const FAN_OUT_JOB_OPTIONS: JobOptions = {
  attempts: 20,
  backoff: { type: 'exponential', delay: 1_000 },
  removeOnComplete: 1_000,
  removeOnFail: 1_000,
};

/** Retry of a batch's transient failures: base, 4 x base, 16 x base... */
export const retryDelayMs = (retry: number, base: number): number => base * 4 ** (retry - 1);
