import type { Browser, Page } from 'playwright-core';
import { modules } from '../../src/modules';
import { startSafeline, type RunningSafeline } from '../../src/safeline';
import { createStaffStore } from '../../src/staff/staff-store';
import { PASSWORD, createStaff } from '../support/staff-client';
import { captureLogger, testConfig } from '../support/test-env';
import { launchChromium, screenshot, signedIn } from './browser-support';

/**
 * The console's phone in a real browser: a campaign manager picks a Bambara caller, dials *321*7#, types on
 * the keypad and reads each next screen (UCS-2 pages with their "98"/"0" prompts, 22 characters a line),
 * without the page reloading; what the call would have done is listed, and nothing of it is stored.
 */
let running: RunningSafeline;
let browser: Browser | undefined;

beforeAll(async () => {
  browser = await launchChromium();
  running = await startSafeline(testConfig({ SMS_GATEWAY: 'emulator' }), captureLogger('warn').logger, modules);
  await running.infra.mongo.opened;
  await createStaff(createStaffStore(running.infra.mongo.connection), [['manager@safeline.test', ['campaign_manager']]]);
});
afterAll(async () => {
  await browser?.close();
  await running?.stop();
});

const screenText = (page: Page) => page.locator('#phone-screen').textContent();
const keypad = (page: Page) => page.getByRole('group', { name: 'Clavier' });

/** Presses keys one by one on the handset's keypad. */
async function press(page: Page, keys: string): Promise<void> {
  for (const key of keys) await keypad(page).getByRole('button', { name: key, exact: true }).click();
}

it('dials the quiz as a Bambara caller and answers it from the keypad, one screen after another', async () => {
  const { page, errors } = await signedIn(browser, running.url, 'manager@safeline.test', PASSWORD);
  await page.getByRole('navigation', { name: 'main' }).getByRole('link', { name: 'Téléphone de test' }).click();
  await page.waitForURL(`${running.url}/console/phone`);
  let navigations = 0;
  page.on('framenavigated', () => (navigations += 1));

  await page.getByLabel("Langue de l'appelant").selectOption('bm');
  await page.getByRole('button', { name: 'Composer *321*7#' }).click();
  await page.locator('#phone-screen', { hasText: 'Ɲininkali 3 aw yɛrɛ kan' }).waitFor();
  expect(await screenText(page)).toMatch(/98\. A tɔ$/);
  expect(await page.locator('#phone-info').textContent()).toMatch(/^menu \(CON\), UCS-2, \d+\/80 caractères$/);
  await screenshot(page, 'phone-01-quiz-dialled');

  // Digits go to the input line; "Effacer" takes the last one off; "Appeler / Envoyer" sends it.
  await press(page, '985');
  expect(await page.getByLabel('Saisie').inputValue()).toBe('985');
  await keypad(page).getByRole('button', { name: 'Effacer' }).click();
  expect(await page.getByLabel('Saisie').inputValue()).toBe('98');
  await keypad(page).getByRole('button', { name: 'Appeler / Envoyer' }).click();
  await page.locator('#phone-screen', { hasText: '0. Segin' }).waitFor();
  expect(await page.getByLabel('Saisie').inputValue()).toBe('');

  await press(page, '98');
  await keypad(page).getByRole('button', { name: 'Appeler / Envoyer' }).click();
  await page.locator('#phone-screen', { hasText: '2. Tɛmɛ' }).waitFor();
  await press(page, '2');
  await keypad(page).getByRole('button', { name: 'Appeler / Envoyer' }).click();
  await page.locator('#phone-screen', { hasText: '1/4 Mali la' }).waitFor();
  // The screen is drawn as the handset draws it: no line wider than 22 characters.
  const drawn = (await screenText(page)) ?? '';
  expect(Math.max(...drawn.split('\n').map((line) => [...line].length))).toBeLessThanOrEqual(22);
  await screenshot(page, 'phone-02-first-question');

  // The input line can be typed into too, and Enter sends it.
  await page.getByLabel('Saisie').fill('98');
  await page.getByLabel('Saisie').press('Enter');
  await page.locator('#phone-screen', { hasText: '1. Ɔwɔ, kojugu don' }).waitFor();
  await press(page, '1');
  await keypad(page).getByRole('button', { name: 'Appeler / Envoyer' }).click();
  await page.locator('#phone-screen', { hasText: '2/4' }).waitFor();
  const effects = await page.locator('#phone-effects li').allTextContents();
  expect(effects).toEqual([
    expect.stringMatching(/^Noterait que le profil a été passé/),
    expect.stringMatching(/^Enregistrerait une réponse au quiz \(flow: quiz, node: law, result: knows_law, category: yes, correct: true/),
  ]);
  await screenshot(page, 'phone-03-second-question');

  await keypad(page).getByRole('button', { name: 'Raccrocher' }).click();
  await page.locator('#phone-screen', { hasText: 'Appel terminé.' }).waitFor();
  expect(navigations).toBe(0);
  expect(await running.infra.mongo.connection.db?.collection('results').countDocuments({})).toBe(0);
  expect(errors).toEqual([]);
});
