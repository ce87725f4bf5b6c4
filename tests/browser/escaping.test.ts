import type { Browser, Page } from 'playwright-core';
import { hotlineModule } from '../../src/hotline/hotline-module';
import { startSafeline, type RunningSafeline } from '../../src/safeline';
import { hashPassword } from '../../src/staff/passwords';
import { staffModule } from '../../src/staff/staff-module';
import { createStaffStore } from '../../src/staff/staff-store';
import { PASSWORD } from '../support/staff-client';
import { captureLogger, testConfig } from '../support/test-env';
import { launchChromium, signedIn } from './browser-support';

/**
 * What staff type comes back escaped on every page (web/ renders components, which escape by default):
 * a name that would be a script, or would end an attribute in double or in single quotes, is only
 * text. Checked in the HTML as sent and in the page Chromium builds from it.
 */
const HOSTILE = `<script>'x'</script>" onmouseover="a()" ' onfocus='b()`;
let running: RunningSafeline;
let browser: Browser | undefined;
let page: Page;

beforeAll(async () => {
  browser = await launchChromium();
  running = await startSafeline(testConfig(), captureLogger('warn').logger, [staffModule, hotlineModule]);
  await running.infra.mongo.opened;
  const hash = await hashPassword(PASSWORD, 2 ** 12);
  await createStaffStore(running.infra.mongo.connection).create({ email: 'admin@safeline.test', name: HOSTILE, passwordHash: hash, roles: ['admin'] }, new Date());
  ({ page } = await signedIn(browser, running.url, 'admin@safeline.test', PASSWORD));
});
afterAll(async () => {
  await browser?.close();
  await running?.stop();
});

/** Opens a page; returns the HTML as the server sent it. */
async function open(path: string): Promise<string> {
  const response = await page.goto(path);
  expect(response?.status()).toBe(200);
  return (await response?.text()) ?? '';
}

/** Nothing the server sent runs: no inline script, no event handler attribute, anywhere in the page. */
async function expectInert(): Promise<void> {
  const found = await page.evaluate(() => ({
    inlineScripts: [...document.querySelectorAll('script')].filter((script) => !script.src).length,
    handlers: [...document.querySelectorAll('*')].flatMap((el) => el.getAttributeNames().filter((name) => name.startsWith('on'))),
  }));
  expect(found).toEqual({ inlineScripts: 0, handlers: [] });
}

it('shows a hostile name as text, in a heading and in a field', async () => {
  const home = await open('/console');
  expect(home).not.toContain('<script>');
  expect(home).toContain(`&lt;script>'x'&lt;/script>&quot; onmouseover=&quot;a()&quot; ' onfocus='b()`);
  expect(await page.locator('h1').innerText()).toContain(HOSTILE);
  await expectInert();

  // The audit filter writes what it was given back into its field's value (an attribute).
  const audit = await open(`/console/audit?action=${encodeURIComponent(HOSTILE)}`);
  expect(audit).toContain(`value="&lt;script>'x'&lt;/script>&quot; onmouseover=&quot;a()&quot; ' onfocus='b()"`);
  expect(await page.locator('#action').inputValue()).toBe(HOSTILE);
  await expectInert();
});

it('shows a hostile shift name as text in the rota, and posts it back unchanged', async () => {
  await open('/console/hotline/rota');
  await page.getByLabel('Nom').fill(HOSTILE);
  await page.getByLabel("Téléphone de l'écoutant").fill('66 00 00 01');
  await page.getByLabel('lun', { exact: true }).check();
  await page.getByRole('button', { name: 'Ajouter une permanence' }).click();
  await page.waitForURL(/\/console\/hotline\/rota$/);
  expect(await page.locator('tbody tr td').first().innerText()).toBe(HOSTILE);
  expect(await page.content()).not.toContain('<script>');
  await expectInert();
});
