import type Redis from 'ioredis';
import { takeLease } from '../platform/redis-lease';
import { sleep } from '../platform/with-timeout';

/**
 * A member no phone hash can be (hashes are hex). It lives inside the set, so whatever takes the set
 * away (a restart without persistence, an eviction, a DEL) takes the marker with it: a set without it
 * is not trusted. A flag in a key of its own could outlive the set it vouches for.
 */
export const FILLED_MARKER = '~filled';
const FILL_LEASE_MS = 30_000;
const FILL_WAIT_MS = 120_000;

/**
 * The hashes of every opted-out number, in Redis, so a sender checks a whole batch in one round
 * trip just before it sends: a STOP that arrives mid-campaign stops that number's next message.
 * MongoDB holds the truth; the same round trip asks for the marker, and a set found without it is
 * rebuilt from MongoDB (one process at a time, under a lease) before any answer is given.
 */
export function createOptOutSet(redis: Redis, prefix: string, loadAll: () => Promise<string[]>) {
  const key = `${prefix}:optouts`;
  const leaseKey = `${prefix}:lock:optouts-fill`;
  const isFilled = async () => (await redis.sismember(key, FILLED_MARKER)) === 1;

  // Added to what is there, never swapped in: an opt-out written while the scan ran stays in the set.
  async function fill(): Promise<void> {
    const hashes = await loadAll();
    for (let i = 0; i < hashes.length; i += 1_000) await redis.sadd(key, ...hashes.slice(i, i + 1_000));
    await redis.sadd(key, FILLED_MARKER);
  }
  // One fill at a time in this process: senders that start together wait for the same scan.
  let filling: Promise<void> | undefined;
  async function rebuild(): Promise<void> {
    const deadline = Date.now() + FILL_WAIT_MS;
    while (!(await isFilled())) {
      const lease = await takeLease(redis, leaseKey, FILL_LEASE_MS);
      if (lease) {
        try {
          if (!(await isFilled())) await fill();
        } finally {
          await lease.release();
        }
        return;
      }
      // Another process is filling it: wait for its marker, never answer from a set without one.
      if (Date.now() > deadline) throw new Error('the opted-out set is still being rebuilt from MongoDB');
      await sleep(100);
    }
  }
  const ensureFilled = async (): Promise<void> => {
    filling ??= rebuild().finally(() => (filling = undefined));
    await filling;
  };
  return {
    /** Fills the set now if it needs it (the worker does it at start, so the first campaign batch does not wait). */
    async warm(): Promise<void> {
      if (!(await isFilled())) await ensureFilled();
    },
    async add(phoneHash: string): Promise<void> {
      await redis.sadd(key, phoneHash);
    },
    async remove(...phoneHashes: string[]): Promise<void> {
      if (phoneHashes.length) await redis.srem(key, ...phoneHashes);
    },
    /** For each hash, whether it opted out: one round trip when the set is whole, a rebuild first when it is not. */
    async which(phoneHashes: readonly string[]): Promise<boolean[]> {
      if (phoneHashes.length === 0) return [];
      for (;;) {
        const [marker, ...members] = await redis.smismember(key, FILLED_MARKER, ...phoneHashes);
        if (marker === 1) return members.map((member) => member === 1);
        await ensureFilled();
      }
    },
  };
}

export type OptOutSet = ReturnType<typeof createOptOutSet>;
