import type { Campaign, CampaignStore } from './campaign-store';

/**
 * Campaign reads for the send jobs: a campaign read in the last `maxAgeMs` is used again, so a
 * campaign of ten thousand batches costs a read a second, not one per batch. The send jobs take
 * its status from Redis before each batch (this is only the fallback when Redis has lost it), and
 * from here its settings: send window, pace, sender ID, which may lag an edit by `maxAgeMs`.
 */
export function recentCampaigns(
  store: Pick<CampaignStore, 'get'>,
  maxAgeMs: number,
  now: () => number = Date.now,
): Pick<CampaignStore, 'get'> {
  const recent = new Map<string, { at: number; campaign: Promise<Campaign | undefined> }>();
  return {
    get(id: string): Promise<Campaign | undefined> {
      const at = now();
      for (const [key, entry] of recent) if (at - entry.at >= maxAgeMs) recent.delete(key);
      const hit = recent.get(id);
      if (hit) return hit.campaign;
      const campaign = store.get(id);
      recent.set(id, { at, campaign });
      // A failed read is not kept: the next batch reads again.
      campaign.catch(() => recent.get(id)?.campaign === campaign && recent.delete(id));
      return campaign;
    },
  };
}
