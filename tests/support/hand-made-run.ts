import { campaignDepsOf } from '../../src/campaigns/campaign-deps';
import type { ManagerOnFakeGateway } from './fake-gateway-env';

/**
 * A campaign's run with one batch, written as the fan-out would have left it (run recorded, the batch
 * and its message documents stored, pending, counters set, fan-out done): for tests that then play a
 * worker's death at a chosen point. `recipients` are taken from the phones in their order.
 */
export async function handMadeRun(
  bed: ManagerOnFakeGateway,
  campaign: string,
  options: { phones: readonly string[]; text: string; status: 'queued' | 'sending'; batchSuffix?: (first: string) => string },
) {
  const deps = campaignDepsOf(bed.running.infra);
  const run = `${campaign}~1`;
  const recipients = options.phones.map((phone) => {
    const subscriber = bed.protection.hash(phone);
    return { message: `${run}:${subscriber}`, subscriber, sealed: bed.protection.encrypt(phone) };
  });
  await deps.campaigns.update(campaign, { status: 'running' });
  await deps.progress.setStatus(campaign, 'running');
  await deps.campaigns.addRun(campaign, run);
  const suffix = options.batchSuffix ? options.batchSuffix(recipients[0]?.subscriber ?? '') : 'b1';
  const { text, status } = options;
  const batch = { _id: `${run}:${suffix}`, campaign, run, language: 'fr', text, recipients, status, retry: 0, updatedAt: new Date() };
  await deps.messages.insertBatch(batch);
  const messages = recipients.map((r) => ({ _id: r.message, campaign, run, subscriber: r.subscriber,
    language: 'fr', batch: batch._id, createdAt: new Date() }));
  await deps.messages.insertMessages(messages);
  await deps.progress.addPending(run, batch._id);
  await deps.progress.set(run, 'recipients', recipients.length);
  await deps.progress.set(run, 'fanoutDone', 1);
  return { deps, run, recipients, batch };
}
