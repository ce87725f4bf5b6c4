import type Redis from 'ioredis';

/** A poll that reached one person: which campaign, in which language, when, for how long replies count. */
export interface PollSend {
  campaign: string;
  language: string;
  sentAt: number;
  windowMs: number;
}

/**
 * Who was last sent a poll, by keyed phone hash: `<p>:poll-sent:<phoneHash>` lives as long as the poll's
 * window, so a reply finds its poll in one read on the inbound path and the index empties itself. A newer
 * poll to the same person replaces the older one: a reply answers the latest question. The thank-you marker
 * `<p>:poll-thanked:<campaign>:<phoneHash>` lives for what is left of the window: one thank-you per poll.
 */
export function createPollSends(redis: Redis, prefix: string) {
  const sentKey = (phoneHash: string): string => `${prefix}:poll-sent:${phoneHash}`;
  const thankedKey = (campaign: string, phoneHash: string): string => `${prefix}:poll-thanked:${campaign}:${phoneHash}`;
  return {
    async mark(phoneHashes: readonly string[], send: PollSend): Promise<void> {
      if (phoneHashes.length === 0) return;
      const value = JSON.stringify(send);
      const pipeline = redis.pipeline();
      for (const hash of phoneHashes) pipeline.set(sentKey(hash), value, 'PX', send.windowMs);
      const answers = (await pipeline.exec()) ?? [];
      const failed = answers.find(([err]) => err);
      if (failed?.[0]) throw failed[0];
    },

    /** The latest poll sent to this phone whose window is still open; undefined when none. */
    async latest(phoneHash: string): Promise<PollSend | undefined> {
      const raw = await redis.get(sentKey(phoneHash));
      if (!raw) return undefined;
      try {
        const send = JSON.parse(raw) as Partial<PollSend>;
        const { campaign, language, sentAt, windowMs } = send;
        if (typeof campaign !== 'string' || typeof language !== 'string' || typeof sentAt !== 'number' || typeof windowMs !== 'number') {
          return undefined;
        }
        return { campaign, language, sentAt, windowMs };
      } catch {
        return undefined;
      }
    },

    /** True the first time for this poll and phone (then a thank-you goes out), false after. */
    async firstThanks(phoneHash: string, send: PollSend, now: number): Promise<boolean> {
      const left = Math.max(1_000, send.sentAt + send.windowMs - now);
      return (await redis.set(thankedKey(send.campaign, phoneHash), '1', 'PX', left, 'NX')) === 'OK';
    },

    /** Takes the marker back when the thank-you could not be queued, so AT's retry of the reply thanks. */
    async unthank(phoneHash: string, send: PollSend): Promise<void> {
      await redis.del(thankedKey(send.campaign, phoneHash));
    },
  };
}

export type PollSends = ReturnType<typeof createPollSends>;
