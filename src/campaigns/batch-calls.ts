import type Redis from 'ioredis';
import type { RecipientResult } from '../gateway/sms-gateway';

/**
 * What became of a batch's gateway call, kept in Redis beside the batch so that it survives the
 * store: a job whose writes fail after the gateway answered (MongoDB away for a moment) or a worker
 * that dies there leaves the answers here, and whoever takes the batch next finishes writing them.
 *
 * - `ready`: claimed, the call not made yet: nothing was sent, the batch can be sent.
 * - `calling`: the call is under way: whoever has no answer may have been sent.
 * - `refused`: the gateway refused the whole call (HTTP 5xx...): nothing was sent.
 * - `answered`: the gateway's answer per recipient sent, by message.
 * No record at all (a batch claimed before this record existed, or Redis lost it): nothing is known.
 */
export type BatchCall =
  | { state: 'ready' | 'calling' | 'refused' }
  | { state: 'answered'; answers: Array<{ message: string; answer: RecipientResult | null }> };

export function createBatchCalls(redis: Redis, prefix: string, keepMs: number) {
  const key = (batchId: string) => `${prefix}:campaign-batch-call:${batchId}`;
  // Kept until the batch is closed, at most the run's report period: past it the run is archived
  // and nothing would finish the batch any more.
  const save = async (batchId: string, value: BatchCall): Promise<void> => {
    await redis.set(key(batchId), JSON.stringify(value), 'PX', Math.max(1, Math.round(keepMs)));
  };
  return {
    save,
    async get(batchId: string): Promise<BatchCall | null> {
      const raw = await redis.get(key(batchId));
      return raw ? (JSON.parse(raw) as BatchCall) : null;
    },
    /** The batch is closed: its results are in the store. */
    forget: async (batchId: string): Promise<void> => void (await redis.del(key(batchId))),
  };
}

export type BatchCalls = ReturnType<typeof createBatchCalls>;
