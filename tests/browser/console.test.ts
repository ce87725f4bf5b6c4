import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startSafeline, type RunningSafeline } from '../../src/safeline';
import { hashPassword } from '../../src/staff/passwords';
import { staffModule } from '../../src/staff/staff-module';
import { createStaffStore } from '../../src/staff/staff-store';
import { captureLogger, testConfig } from '../support/test-env';
import { VIEWPORT, launchChromium, screenshot, watchErrors } from './browser-support';

/**
 * The staff console in a real browser (Debian's headless Chromium driven by playwright-core):
 * sign in, open a page the role allows, be refused one it does not, sign out; switch language;
 * reach the form from the keyboard. Screenshots go to test-artifacts/browser/.
 */
const PASSWORD = 'correct horse battery staple';
let running: RunningSafeline;
let browser: Browser | undefined;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  // Chromium first: without it the suite fails at once, with a message saying how to install it.
  browser = await launchChromium();
  running = await startSafeline(testConfig(), captureLogger('warn').logger, [staffModule]);
  await running.infra.mongo.opened;
  const users = createStaffStore(running.infra.mongo.connection);
  // A low scrypt cost keeps the suite fast; it travels inside the hash.
  const hash = await hashPassword(PASSWORD, 2 ** 12);
  await users.create({ email: 'admin@safeline.test', name: 'Awa', passwordHash: hash, roles: ['admin'] }, new Date());
  await users.create({ email: 'agent@safeline.test', name: 'Moussa', passwordHash: hash, roles: ['hotline_agent'] }, new Date());
});

afterAll(async () => {
  await browser?.close();
  await running?.stop();
});

/** A fresh browser profile (no cookies) on a small laptop screen. */
async function newPage(): Promise<{ page: Page; errors: string[] }> {
  if (!browser) throw new Error('Chromium did not start');
  const context = await browser.newContext({ viewport: VIEWPORT, baseURL: running.url });
  context.setDefaultTimeout(10_000);
  contexts.push(context);
  const page = await context.newPage();
  return { page, errors: watchErrors(page) };
}

async function signIn(page: Page, email: string): Promise<void> {
  await page.goto('/console/login');
  await page.getByLabel('Adresse e-mail').fill(email);
  await page.getByLabel('Mot de passe').fill(PASSWORD);
  await page.getByRole('button', { name: 'Se connecter' }).click();
  await page.waitForURL(`${running.url}/console`);
}

const mainNav = (page: Page) => page.getByRole('navigation', { name: 'main' });

afterEach(async () => {
  await Promise.all(contexts.splice(0).map((context) => context.close()));
});

describe('the staff console in a browser', () => {
  it('lets a hotline agent sign in, open the home page, be refused the audit log, and sign out', async () => {
    const { page, errors } = await newPage();
    await page.goto('/console/login');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Connexion du personnel');
    await screenshot(page, '01-login-fr');

    await signIn(page, 'agent@safeline.test');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Bonjour Moussa');
    await expectVisible(mainNav(page).getByRole('link', { name: 'Accueil' }));
    expect(await mainNav(page).getByRole('link', { name: "Journal d'audit" }).count()).toBe(0);
    await screenshot(page, '02-agent-home');

    const refused = await page.goto('/console/audit');
    expect(refused?.status()).toBe(403);
    // A page in the console, in its language, with the way back.
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe("Votre rôle ne permet pas d'ouvrir cette page.");
    await expectVisible(page.getByRole('main').getByRole('link', { name: 'Accueil' }));
    await screenshot(page, '03-agent-audit-refused');

    await page.goto('/console');
    await page.getByRole('button', { name: 'Se déconnecter' }).click();
    await page.waitForURL(`${running.url}/console/login`);
    await expectVisible(page.getByLabel('Adresse e-mail'));
    await screenshot(page, '04-agent-signed-out');

    // The session is gone: the console sends the browser back to the sign-in page.
    await page.goto('/console');
    expect(new URL(page.url()).pathname).toBe('/console/login');
    expect(new URL(page.url()).searchParams.get('next')).toBe('/console');
    // The one error the browser saw is the refusal itself.
    expect(errors).toEqual([`console: Failed to load resource: the server responded with a status of 403 (Forbidden) (${running.url}/console/audit)`]);
  });

  it('shows an admin the audit log, with the sign-in recorded', async () => {
    const { page, errors } = await newPage();
    await signIn(page, 'admin@safeline.test');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Bonjour Awa');
    await mainNav(page).getByRole('link', { name: "Journal d'audit" }).click();
    await page.waitForURL(`${running.url}/console/audit`);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe("Journal d'audit");
    const loginRows = page.getByRole('row').filter({ has: page.getByRole('cell', { name: 'login', exact: true }) });
    expect(await loginRows.count()).toBeGreaterThan(0);
    await screenshot(page, '05-admin-audit');
    expect(errors).toEqual([]);
  });

  it('switches the console to English', async () => {
    const { page, errors } = await newPage();
    await page.goto('/console/login');
    await page.getByRole('link', { name: 'English' }).click();
    await page.waitForURL(/lang=en/);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Staff sign-in');
    await expectVisible(page.getByLabel('Email address'));
    await expectVisible(page.getByRole('link', { name: 'Français' }));
    await screenshot(page, '06-login-en');
    expect(errors).toEqual([]);
  });

  it('can be used from the keyboard: Tab reaches the skip link, which leads to the email field', async () => {
    const { page } = await newPage();
    await page.goto('/console/login');
    // The email field takes focus by itself (autofocus). Start from the top instead, as a user
    // coming from the address bar does: focus the document itself (blur() alone keeps the place).
    // (Page scripts are strings: the project's TypeScript has no DOM types.)
    await page.evaluate("(() => { document.body.tabIndex = -1; document.body.focus(); document.body.removeAttribute('tabindex'); })()");
    const focused = () =>
      page.evaluate<{ tag: string; id: string; text: string; href: string | null }>(
        "(() => { const el = document.activeElement; return { tag: el.tagName.toLowerCase(), id: el.id, text: el.textContent.trim(), href: el.getAttribute('href') }; })()",
      );

    await page.keyboard.press('Tab');
    expect(await focused()).toMatchObject({ tag: 'a', text: 'Aller au contenu', href: '#main' });
    const skip = await page.getByRole('link', { name: 'Aller au contenu' }).boundingBox();
    expect(skip && skip.x >= 0 && skip.y >= 0).toBe(true); // shown on screen while focused
    await screenshot(page, '07-keyboard-skip-link');

    await page.keyboard.press('Enter');
    await page.keyboard.press('Tab');
    expect(await focused()).toMatchObject({ tag: 'input', id: 'email' });
    await page.keyboard.press('Tab');
    expect(await focused()).toMatchObject({ tag: 'input', id: 'password' });
  });
});

async function expectVisible(locator: ReturnType<Page['getByRole']>): Promise<void> {
  expect(await locator.isVisible()).toBe(true);
}
