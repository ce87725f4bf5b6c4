import { randomUUID } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { createHotlineIntake } from '../../src/hotline/hotline-intake';
import { referenceCodesOf } from '../../src/hotline/reference-codes-of';
import { modules } from '../../src/modules';
import { createPhoneProtection } from '../../src/shared/phone-protection';
import { startSafeline, type RunningSafeline } from '../../src/safeline';
import { createStaffStore } from '../../src/staff/staff-store';
import { PASSWORD, createStaff } from '../support/staff-client';
import { captureLogger, testConfig } from '../support/test-env';
import { caller } from '../support/ussd-client';
import { launchChromium, screenshot, signedIn } from './browser-support';

/**
 * An agent's shift in a real browser: the queue page shows a new request by itself, then the agent
 * claims it, reveals the number, logs an attempt and closes it. An admin sees the figures' chart. A long
 * queue comes a page at a time, and the refresh keeps the page.
 */
let running: RunningSafeline;
let browser: Browser | undefined;
let token: string;

beforeAll(async () => {
  browser = await launchChromium();
  const config = testConfig();
  token = config.ussd.callbackToken;
  running = await startSafeline(config, captureLogger('warn').logger, modules);
  await running.infra.mongo.opened;
  await createStaff(createStaffStore(running.infra.mongo.connection), [
    ['agent@safeline.test', ['hotline_agent']],
    ['admin@safeline.test', ['admin']],
  ]);
});
afterAll(async () => {
  await browser?.close();
  await running?.stop();
});

const signIn = (email: string) => signedIn(browser, running.url, email, PASSWORD);

/** A first-time caller asks for a callback in French, in the morning, without SMS. */
async function callbackRequest(phone: string): Promise<string> {
  const session = caller(running.url, token, phone, `ATUid_${randomUUID()}`);
  await session.dial();
  let reply = await session.type('1');
  for (const input of ['3', '1', '1', '1']) reply = await session.type(input);
  const ref = /([2-9A-HJKMNP-TV-Z]{6})\s*$/.exec(reply.body)?.[1];
  if (!ref) throw new Error(`no reference in ${reply.body}`);
  return ref;
}

it('shows a new request in the open queue page by itself, and lets the agent work it to the end', async () => {
  const { page, errors } = await signIn('agent@safeline.test');
  await page.getByRole('link', { name: "File d'appels" }).click();
  await page.waitForURL(/\/console\/hotline$/);

  const ref = await callbackRequest('+22370555001');
  // No reload: the page polls every 5 s.
  await page.getByRole('link', { name: ref }).waitFor({ timeout: 10_000 });
  await screenshot(page, 'hotline-queue');

  await page.getByRole('link', { name: ref }).click();
  await page.getByRole('button', { name: 'Prendre' }).click();
  await page.getByRole('button', { name: /Afficher le numéro/ }).click();
  await page.getByText('+22370555001').waitFor();
  await screenshot(page, 'hotline-request-revealed');

  await page.getByLabel('Résultat').first().selectOption('reached');
  await page.getByLabel(/Note/).first().fill('Parlé dix minutes.');
  await page.getByRole('button', { name: 'Noter la tentative' }).click();
  await page.getByText('Parlé dix minutes.').waitFor();
  // After a redirect the number is no longer on the page.
  expect(await page.content()).not.toContain('+22370555001');

  await page.locator('#c-outcome').selectOption('referred_social_services');
  await page.getByRole('button', { name: 'Clore' }).click();
  await page.getByText('Orienté vers les services sociaux').waitFor();
  await screenshot(page, 'hotline-request-closed');
  expect(errors).toEqual([]);
});

it('shows admins the figures with a chart of requests per day', async () => {
  const { page, errors } = await signIn('admin@safeline.test');
  await page.getByRole('link', { name: 'Chiffres de la ligne' }).click();
  await page.getByRole('img', { name: 'Demandes par jour' }).waitFor();
  await screenshot(page, 'hotline-figures');
  expect(errors).toEqual([]);
});

it('pages a long queue and keeps the page it is on when the list refreshes', async () => {
  // 55 more open requests through the intake use case: two pages.
  const protection = createPhoneProtection(running.infra.config.secrets);
  const intake = createHotlineIntake(running.infra, referenceCodesOf(running.infra));
  for (let index = 0; index < 55; index += 1) {
    const phone = `+2237056${String(index).padStart(4, '0')}`;
    const reference = `Q${'23456789ABCDEFGHJKMNPQRSTVWXYZ'[Math.floor(index / 30)] ?? '2'}${'23456789ABCDEFGHJKMNPQRSTVWXYZ'[index % 30] ?? '2'}XYZ`;
    await intake.recordCallbackRequest({ reference, eventKey: `seed:${reference}`, phoneHash: protection.hash(phone), phoneSealed: protection.encrypt(phone), language: 'fr', window: 'evening', topic: 'other', urgency: 'normal', region: 'kayes', confirmBySms: false, channel: 'ussd' }, new Date());
  }
  const { page, errors } = await signIn('agent@safeline.test');
  await page.goto(`${running.url}/console/hotline`);
  await page.getByText('Demandes ouvertes : 55').waitFor();
  expect(await page.locator('#queue tbody tr').count()).toBe(50);
  await page.getByRole('link', { name: 'Page suivante' }).click();
  await page.waitForURL(/page=2$/);
  await page.getByText(/Page 2 sur 2 : demandes 51 à 55 sur 55/).waitFor();
  // After the next refresh (every 5 s) it is still page 2.
  await page.locator('#live-updated').filter({ hasText: /\d/ }).waitFor({ timeout: 10_000 });
  await page.getByText(/Page 2 sur 2/).waitFor();
  expect(await page.locator('#queue tbody tr').count()).toBe(5);
  await screenshot(page, 'hotline-queue-page-2');
  expect(errors).toEqual([]);
});
