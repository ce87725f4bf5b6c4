import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's chromium (`apt-get install chromium`); .ci/run installs it when missing. CHROMIUM_PATH overrides. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Screenshots are kept as test artifacts (git-ignored), one PNG per main step. */
export const SCREENSHOT_DIR = resolve(__dirname, '../../test-artifacts/browser');

/** A small laptop screen. */
export const VIEWPORT = { width: 1280, height: 720 };

/**
 * Starts headless Chromium. A missing binary fails the suite (it never skips): CI installs it.
 * The network is closed here, so everything that would call home is switched off.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}. Install Debian's chromium (apt-get install -y chromium; .ci/run does it) or set CHROMIUM_PATH.`);
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: 20_000,
  });
}

/** A full-page screenshot to test-artifacts/browser/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * What the page logged as errors and threw: a console page should do neither. The browser's own
 * request for /favicon.ico (the console has no icon, so 404) is not the page's doing.
 */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.location().url.endsWith('/favicon.ico')) errors.push(`console: ${message.text()} (${message.location().url})`);
  });
  return errors;
}

/**
 * A fresh browser profile on a small laptop screen, signed in to the console (in French) with the
 * test password, and the list of errors the page shows from then on.
 */
export async function signedIn(browser: Browser | undefined, baseUrl: string, email: string, password: string): Promise<{ page: Page; errors: string[] }> {
  if (!browser) throw new Error('Chromium did not start');
  const context = await browser.newContext({ viewport: VIEWPORT, baseURL: baseUrl });
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto('/console/login');
  await page.getByLabel('Adresse e-mail').fill(email);
  await page.getByLabel('Mot de passe').fill(password);
  await page.getByRole('button', { name: 'Se connecter' }).click();
  await page.waitForURL(`${baseUrl}/console`);
  return { page, errors };
}
