import type { Campaign } from '../../src/campaigns/campaign-store';
import { recentCampaigns } from '../../src/campaigns/recent-campaigns';

// The store here is a plain function standing in for what recentCampaigns wraps: what is tested is
// how often it is asked, with a clock the test moves.
function countingStore(answer: () => Promise<Campaign | undefined>) {
  const reads: string[] = [];
  return { reads, store: { get: (id: string) => (reads.push(id), answer()) } };
}
const campaign = (id: string, senderId: string) => ({ _id: id, senderId }) as unknown as Campaign;

it('reads a campaign once per interval, however many batches ask, and each campaign apart', async () => {
  let clock = 0;
  let sender = 'SAFELINE';
  const { reads, store } = countingStore(() => Promise.resolve(campaign('c1', sender)));
  const campaigns = recentCampaigns(store, 1_000, () => clock);
  const concurrent = await Promise.all([campaigns.get('c1'), campaigns.get('c1'), campaigns.get('c1')]);
  expect(concurrent.map((c) => c?.senderId)).toEqual(['SAFELINE', 'SAFELINE', 'SAFELINE']);
  clock = 999;
  sender = 'EDITED';
  expect((await campaigns.get('c1'))?.senderId).toBe('SAFELINE');
  expect(reads).toEqual(['c1']);
  clock = 1_000;
  expect((await campaigns.get('c1'))?.senderId).toBe('EDITED');
  await campaigns.get('c2');
  expect(reads).toEqual(['c1', 'c1', 'c2']);
});

it('does not keep a failed read: the next batch reads again', async () => {
  let fail = true;
  const { reads, store } = countingStore(() => (fail ? Promise.reject(new Error('store down')) : Promise.resolve(campaign('c1', 'SAFELINE'))));
  const campaigns = recentCampaigns(store, 1_000, () => 0);
  await expect(campaigns.get('c1')).rejects.toThrow('store down');
  fail = false;
  expect((await campaigns.get('c1'))?.senderId).toBe('SAFELINE');
  expect(reads).toEqual(['c1', 'c1']);
});
