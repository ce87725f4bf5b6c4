import type Redis from 'ioredis';

/**
 * The hashes of every opted-out number, in Redis, so a sender checks a whole batch in one round
 * trip just before it sends: a STOP that arrives mid-campaign stops that number's next message.
 * MongoDB holds the truth; after Redis loses its data the set is refilled before anyone trusts it.
 */
export function createOptOutSet(redis: Redis, prefix: string, loadAll: () => Promise<string[]>) {
  const key = `${prefix}:optouts`;
  const complete = `${prefix}:optouts:complete`;
  // One fill at a time in this process: senders that start together wait for the same scan.
  let filling: Promise<void> | undefined;
  async function fill(): Promise<void> {
    const hashes = await loadAll();
    for (let i = 0; i < hashes.length; i += 1_000) await redis.sadd(key, ...hashes.slice(i, i + 1_000));
    await redis.set(complete, '1');
  }
  async function ensureFilled(): Promise<void> {
    if ((await redis.exists(complete)) === 1) return;
    filling ??= fill().finally(() => (filling = undefined));
    await filling;
  }
  return {
    /** Fills the set now (the worker does it at start, so the first campaign batch does not wait). */
    warm: ensureFilled,
    async add(phoneHash: string): Promise<void> {
      await redis.sadd(key, phoneHash);
    },
    async remove(phoneHash: string): Promise<void> {
      await redis.srem(key, phoneHash);
    },
    /** For each hash, whether it opted out. */
    async which(phoneHashes: readonly string[]): Promise<boolean[]> {
      if (phoneHashes.length === 0) return [];
      await ensureFilled();
      return (await redis.smismember(key, ...phoneHashes)).map((member) => member === 1);
    },
  };
}

export type OptOutSet = ReturnType<typeof createOptOutSet>;
