import { parseKannelStatus } from '../../src/gateway/kannel-status';
import { eventually } from '../support/eventually';
import { seedSubscribers } from '../support/seed-subscribers';
import { captureLogger } from '../support/test-env';
import { scheduleCampaign, timesReceived, twoOperators, viewCampaign, waitCampaign } from '../support/two-operators';

/**
 * An operator's bind goes offline mid-campaign (its SMSC drops the bind and refuses new ones). Kannel would still
 * take that route's messages ("3: Queued for later delivery") and hold them; safeline reads the bind's state from
 * status.txt instead and holds the route's batches, while the other operator's go on. When the bind is back, the
 * held batches go, each number once.
 */
const { logger, lines } = captureLogger('info');
const bed = twoOperators({ name: 'bind-offline', perSecond: { orange: 20, moov: 40 }, env: { CAMPAIGN_BATCH_SIZE: '10' }, logger });

const readyz = async () => {
  const res = await fetch(`${bed.running.url}/readyz`, { headers: { authorization: `Bearer ${bed.running.infra.config.metricsToken ?? ''}` } });
  return { status: res.status, body: (await res.json()) as { status: string; checks?: Record<string, string> } };
};
/** Messages Kannel took and holds with no bind to send them over (status.txt's "SMS: ... sent N (M queued)"). */
const heldInKannel = async (): Promise<number> => Number(/^SMS: received \d+ \(\d+ queued\), sent \d+ \((\d+) queued\)/m.exec(await bed.kannel.status())?.[1] ?? NaN);

it('holds the offline operator\'s batches while the other\'s complete, names the bind on /readyz, and sends the rest once it is back', async () => {
  const { running, protection, orange, moov } = bed;
  await seedSubscribers(running.infra.mongo.connection, protection, { from: 2_000_001, count: 120, region: 'mopti', prefix: '+2237' });
  await seedSubscribers(running.infra.mongo.connection, protection, { from: 2_000_001, count: 120, region: 'mopti', prefix: '+2236' });
  const text = 'Mopti: un passeur promet un emploi? Verifiez au 80 00 11 11.';
  const id = await scheduleCampaign(bed, 'bind offline', 'mopti', text);
  const count = (list: typeof orange.received) => list.filter((sms) => sms.text === text).length;

  await eventually(() => Promise.resolve(count(orange.received)), (n) => n >= 20, 15_000);
  const binds = orange.binds();
  orange.dropBinds({ refuse: true });
  const droppedAt = Date.now();
  const down = await eventually(readyz, (r) => r.status === 503, 10_000);
  expect(down.body.checks?.kannel).toMatch(/^down: SMSC orange is (re-connecting|connecting|dead|disconnected)/);
  expect(down.body.checks?.kannel).not.toContain('moov');

  // Moov's batches all go meanwhile; Orange's wait (a batch already handed to Kannel within the last reading's
  // few seconds is held by Kannel, and no more are added).
  await eventually(() => Promise.resolve(count(moov.received)), (n) => n === 120, 15_000);
  const heldByKannel = await heldInKannel();
  await new Promise((resolve) => setTimeout(resolve, 6_000));
  expect(await heldInKannel()).toBe(heldByKannel);
  expect(parseKannelStatus(await bed.kannel.status()).smscs.find((s) => s.id === 'orange')?.state).not.toBe('online');
  const waiting = await viewCampaign(bed, id);
  const sentToOrange = count(orange.received);
  expect(waiting.status).toBe('running');
  expect(waiting.progress).toMatchObject({ recipients: 240, failed: 0, unknown: 0 });
  // Sent = Moov's 120 + Orange's taken before the drop (received or held by Kannel); the rest is not counted failed.
  expect(waiting.progress.sent).toBe(120 + sentToOrange + heldByKannel);
  expect(waiting.progress.sent).toBeLessThan(240);

  orange.acceptBinds();
  await orange.waitForBind(10_000, binds);
  const done = await waitCampaign(bed, id, (v) => v.status === 'completed' && v.progress.delivered === 240, 60_000);
  expect(done.progress).toMatchObject({ recipients: 240, sent: 240, delivered: 240, failed: 0, unknown: 0 });
  const times = [...timesReceived(orange.received, text).values(), ...timesReceived(moov.received, text).values()];
  expect(times).toHaveLength(240);
  expect(times.every((n) => n === 1)).toBe(true);
  expect((await readyz()).status).toBe(200);
  logger.info({ offlineMs: Date.now() - droppedAt, sentToOrangeBeforeDrop: sentToOrange, heldByKannel }, 'bind offline measured');
  expect(lines().join('\n')).not.toMatch(/223[67]\d{7}/);
}, 90_000);
