import { eventually } from '../support/eventually';
import { seedSubscribers } from '../support/seed-subscribers';
import { captureLogger } from '../support/test-env';
import { scheduleCampaign, timesReceived, twoOperators, waitCampaign } from '../support/two-operators';

/**
 * bearerbox is restarted mid-campaign, cleanly (SIGTERM, as `systemctl restart` or `docker restart` does): smsbox
 * shuts down with it, and both are started again as their supervisor would. While they are down sendsms refuses
 * connections: a batch refused as a whole is retried by its job, a recipient refused inside a batch by the batch's
 * retries. What each SMSC received is counted per number: nobody is lost, nobody gets it twice.
 * (A crash is another matter: see README, "What survives what".)
 */
const { logger, lines } = captureLogger('info');
const bed = twoOperators({
  name: 'restart',
  perSecond: { orange: 40, moov: 20 },
  // Recipient retries 1 s, 4 s, 16 s apart: the third is well past a restart's few seconds.
  env: { CAMPAIGN_BATCH_SIZE: '10', CAMPAIGN_RETRY_DELAY_MS: '1000', CAMPAIGN_MAX_RETRIES: '5' },
  logger,
  dlrInRedis: true,
});

it('loses and duplicates nothing when bearerbox is restarted mid-campaign', async () => {
  const { running, protection, orange, moov, kannel } = bed;
  const atOrange = await seedSubscribers(running.infra.mongo.connection, protection, { from: 3_000_001, count: 300, region: 'gao', prefix: '+2237' });
  const atMoov = await seedSubscribers(running.infra.mongo.connection, protection, { from: 3_000_001, count: 150, region: 'gao', prefix: '+2236' });
  const text = 'Gao: une offre de travail sans contrat est un danger. 80 00 11 11.';
  const id = await scheduleCampaign(bed, 'bearerbox restart', 'gao', text);
  const count = () => [...orange.received, ...moov.received].filter((sms) => sms.text === text).length;

  await eventually(() => Promise.resolve(count()), (n) => n >= 100, 15_000);
  const [orangeBinds, moovBinds] = [orange.binds(), moov.binds()];
  await kannel.stopBearerbox();
  const receivedAtStop = count();
  const stoppedAt = Date.now();
  // Down for 3 s: at 60 a second, some 18 batches come to a closed sendsms port meanwhile; none reaches an SMSC.
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  expect(count()).toBe(receivedAtStop);
  await kannel.startBearerbox();
  await Promise.all([orange.waitForBind(10_000, orangeBinds), moov.waitForBind(10_000, moovBinds)]);
  await kannel.startSmsbox();
  const downMs = Date.now() - stoppedAt;

  const done = await waitCampaign(bed, id, (v) => v.status === 'completed', 30_000);
  const doneMs = Date.now() - stoppedAt;
  // The counters balance with nothing unknown: every recipient was sent (a clean restart loses no answer).
  expect(done.progress).toMatchObject({ recipients: 450, sent: 450, failed: 0, unknown: 0, optedOut: 0, cancelled: 0 });
  const orangeTimes = timesReceived(orange.received, text);
  const moovTimes = timesReceived(moov.received, text);
  expect([...orangeTimes.keys()].sort()).toEqual(atOrange.map((phone) => phone.slice(1)).sort());
  expect([...moovTimes.keys()].sort()).toEqual(atMoov.map((phone) => phone.slice(1)).sort());
  const twice = [...orangeTimes.values(), ...moovTimes.values()].filter((n) => n > 1).length;
  expect(twice).toBe(0);
  // Receipts come back for the messages in flight at the stop too: bearerbox keeps its map of them in Redis
  // (dlr-storage = redis), so the new bearerbox finds the dlr-url of a receipt the old one was waiting for. All 450
  // came back in every run but one, under the whole suite's load (441: README, "What survives what"): the bound
  // leaves that open, and the count is logged.
  const reported = await waitCampaign(bed, id, (v) => v.progress.delivered === 450, 45_000);
  expect(reported.progress).toMatchObject({ sent: 450, failedDelivery: 0 });
  expect(reported.progress.delivered).toBeGreaterThanOrEqual(430);
  logger.info({ receivedAtStop, downMs, doneMs, delivered: reported.progress.delivered, receiptsMs: Date.now() - stoppedAt }, 'bearerbox restart measured');
  expect(lines().join('\n')).not.toMatch(/223[67]\d{7}/);
}, 100_000);
