import { seedSubscribers } from '../support/seed-subscribers';
import { captureLogger } from '../support/test-env';
import { scheduleCampaign, timesReceived, twoOperators, waitCampaign } from '../support/two-operators';

/**
 * A campaign to 1,000 numbers on two operators through real bearerbox + smsbox and two SMSC simulators, with
 * the operators' receipts counted back through Kannel's dlr-url: every recipient sent once, over its own bind,
 * and delivered + failed delivery = sent once the receipts are in.
 */
const { logger, lines } = captureLogger('info');
const bed = twoOperators({ name: 'thousand', perSecond: { orange: 300, moov: 150 }, env: { CAMPAIGN_BATCH_SIZE: '50' }, logger });

it('sends 1,000 numbers once each over their operator\'s bind and counts every receipt', async () => {
  const { running, protection, orange, moov } = bed;
  const atOrange = await seedSubscribers(running.infra.mongo.connection, protection, { from: 1_000_001, count: 650, region: 'segou', prefix: '+2237' });
  const atMoov = await seedSubscribers(running.infra.mongo.connection, protection, { from: 1_000_001, count: 350, region: 'segou', prefix: '+2236' });
  // Every 20th receipt says UNDELIV (Kannel's type 2): failed delivery, still sent.
  orange.setFailureShare(0.05);
  moov.setFailureShare(0.05);
  const text = 'Segou: avant de partir, faites verifier votre contrat au 80 00 11 11.';
  const started = Date.now();
  const id = await scheduleCampaign(bed, 'thousand two operators', 'segou', text);
  const done = await waitCampaign(bed, id, (v) => v.status === 'completed' && v.progress.delivered + v.progress.failedDelivery === v.progress.sent, 60_000);
  const elapsedMs = Date.now() - started;

  const sentOrange = timesReceived(orange.received, text);
  const sentMoov = timesReceived(moov.received, text);
  // Each number once, and over its own operator's bind only.
  expect([...sentOrange.keys()].sort()).toEqual(atOrange.map((phone) => phone.slice(1)).sort());
  expect([...sentMoov.keys()].sort()).toEqual(atMoov.map((phone) => phone.slice(1)).sort());
  expect([...sentOrange.values(), ...sentMoov.values()].every((times) => times === 1)).toBe(true);

  // What the SMSCs said in their receipts is what the campaign counts.
  const ours = [...orange.received, ...moov.received].filter((sms) => sms.text === text);
  const stats = ours.map((sms) => (sms.smsc === 'orange' ? orange : moov).receipts.get(sms.messageIds[0] ?? ''));
  const undelivered = stats.filter((stat) => stat === 'UNDELIV').length;
  expect(stats.filter((stat) => stat === 'DELIVRD').length).toBe(1_000 - undelivered);
  expect(undelivered).toBeGreaterThanOrEqual(40);
  expect(done.progress).toMatchObject({ recipients: 1_000, sent: 1_000, delivered: 1_000 - undelivered, failedDelivery: undelivered, failed: 0, unknown: 0 });
  logger.info({ elapsedMs, undelivered }, 'thousand through Kannel measured');
  expect(lines().join('\n')).not.toMatch(/223[67]\d{7}/);
}, 90_000);
