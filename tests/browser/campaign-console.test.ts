import type { Browser } from 'playwright-core';
import { modules } from '../../src/modules';
import { startSafeline, type RunningSafeline } from '../../src/safeline';
import { createStaffStore } from '../../src/staff/staff-store';
import { PASSWORD, createStaff } from '../support/staff-client';
import { captureLogger, testConfig } from '../support/test-env';
import { launchChromium, screenshot, signedIn } from './browser-support';

/**
 * A campaign manager's morning in a real browser, on the SMS emulator (the default for `npm run dev`):
 * upload a CSV of subscribers and watch the import, write a message in two languages and compare
 * the preview's figures, send it and watch the funnel fill without reloading, read the emulator's
 * outbox and the report; then schedule, pause and cancel another campaign from its buttons.
 */
let running: RunningSafeline;
let browser: Browser | undefined;

beforeAll(async () => {
  browser = await launchChromium();
  const config = testConfig({ SMS_GATEWAY: 'emulator', SMS_EMULATOR_REPORT_DELAY_MS: '300', SMS_EMULATOR_FAILURE_RATE: '0' });
  running = await startSafeline(config, captureLogger('warn').logger, modules);
  await running.infra.mongo.opened;
  await createStaff(createStaffStore(running.infra.mongo.connection), [['manager@safeline.test', ['campaign_manager']]]);
});
afterAll(async () => {
  await browser?.close();
  await running?.stop();
});

const signIn = (email: string) => signedIn(browser, running.url, email, PASSWORD);

// 12 people in Ségou (8 read French, 4 Bambara) and one number that is not one (line 5).
const phones = Array.from({ length: 12 }, (_, i) => `+2237600${String(1000 + i)}`);
const csv = [
  'phone,language,consent_source,region,topics',
  ...phones.slice(0, 3).map((phone) => `${phone},fr,import,segou,migration`),
  '12345,fr,import,segou,migration',
  ...phones.slice(3, 8).map((phone) => `${phone},fr,import,segou,migration`),
  ...phones.slice(8).map((phone) => `${phone},bm,import,segou,migration`),
].join('\r\n');

it('imports a CSV file, previews, sends and follows a campaign, and acts on another from its buttons', async () => {
  const { page, errors } = await signIn('manager@safeline.test');

  // The import: a file chosen in the form (as a spreadsheet saves it, with a byte-order mark), then its progress page.
  await page.goto('/console/subscribers');
  await page.getByLabel('Le fichier CSV (20 Mo au plus)').setInputFiles({ name: 'segou.csv', mimeType: 'text/csv', buffer: Buffer.from(`\ufeff${csv}`, 'utf8') });
  await page.getByRole('button', { name: 'Importer' }).click();
  await page.waitForURL(/\/console\/subscribers\/import\/[0-9a-f-]{36}$/);
  await page.getByText('12 importés, 1 refusés.').waitFor();
  await page.getByText('Terminé.').waitFor();
  expect(await page.locator('main li').allTextContents()).toEqual(["ligne 5: ce n'est pas un numéro de téléphone valide"]);
  expect(await page.locator('progress').getAttribute('value')).toBe('13');
  await screenshot(page, 'campaign-01-import-done');
  await page.getByRole('link', { name: 'Abonnés' }).first().click();
  await expect(page.locator('table').filter({ hasText: 'segou' }).innerText()).resolves.toContain('12');

  // Submitting the form empty says what to do, and starts nothing.
  await page.getByRole('button', { name: 'Importer' }).click();
  await page.getByRole('alert').filter({ hasText: 'Choisissez' }).waitFor();

  // A message in French and in Bambara; the preview shows what each costs, and the ASCII spelling's.
  await page.goto('/console/campaigns/new');
  await page.getByLabel('Nom').fill('Ségou: partir sans danger');
  await page.getByLabel('Message en Français').fill('Avant de partir, vérifiez l offre auprès de l ANPE. Aide: *321#');
  await page.getByLabel('Message en Bamanankan').fill('Sani i ka taa, i ka baara sɛbɛn lajɛ ANPE la. Dɛmɛ: *321#');
  await page.getByLabel('Régions (codes séparés par des virgules, vide : toutes)').fill('segou');
  await page.getByLabel('Envoyer à partir de').fill('00:00');
  await page.getByLabel("Envoyer jusqu'à").fill('00:00');
  await page.getByRole('button', { name: 'Aperçu' }).click();
  const preview = page.locator('table').first();
  await preview.waitFor();
  const rows = await preview.locator('tbody tr').allInnerTexts();
  expect(rows.find((row) => row.startsWith('fr'))).toMatch(/GSM-7\s+1\s+8\s+160/);
  expect(rows.find((row) => row.startsWith('bm\t'))).toMatch(/UCS-2 \(ɛ\)\s+1\s+4\s+80/);
  expect(rows.find((row) => row.startsWith('bm ASCII'))).toMatch(/GSM-7\s+1\s+4\s+80/);
  await page.getByText('Total : 12 destinataires, environ 240 FCFA.').waitFor();
  await screenshot(page, 'campaign-02-preview');

  // Created as a draft, then sent now: the funnel fills by itself until everyone has it.
  await page.getByRole('button', { name: 'Créer le brouillon' }).click();
  await page.waitForURL(/\/console\/campaigns\/[0-9a-f-]{36}$/);
  const campaignUrl = page.url();
  await page.getByText('Brouillon').first().waitFor();
  await page.getByRole('button', { name: 'Programmer' }).click();
  await page.waitForURL(campaignUrl);
  const funnel = page.getByRole('img', { name: 'Avancement de la campagne' });
  await expect(funnel.innerHTML()).resolves.toContain('Destinataires');
  // No reload from here: the page asks the server every 2 s.
  await page.getByText('Terminée').first().waitFor({ timeout: 20_000 });
  await page.locator('svg.bars').filter({ hasText: /Remis\s*12/ }).waitFor({ timeout: 20_000 });
  expect(await funnel.textContent()).toMatch(/Destinataires12.*File d'attente0.*Envoyés12.*Remis12.*Non remis0.*Échecs d'envoi0/i);
  await page.getByText('Coût à ce jour : 240 FCFA').waitFor();
  await screenshot(page, 'campaign-03-delivered');

  // A test send with a number that is not one is refused on the page.
  await page.getByLabel('Numéros de test (équipe, séparés par des virgules)').fill('76 01 02 03, pas un numéro');
  await page.getByRole('button', { name: 'Envoyer un test' }).click();
  await page.getByRole('alert').filter({ hasText: "Un des numéros n'est pas valide." }).waitFor();

  // The report: one row per recipient, and for a manager no phone number.
  const report = await page.request.get(`${campaignUrl.replace('/console/', '/api/v1/')}/report.csv`);
  expect(report.status()).toBe(200);
  const lines = (await report.text()).trim().split(/\r?\n/);
  expect(lines).toHaveLength(13);
  expect(lines.join('\n')).not.toMatch(/\+?2237600\d{4}/);

  // The emulator's outbox shows the messages that "arrived", numbers masked.
  await page.goto('/console/sms-emulator');
  const outbox = await page.locator('tbody').innerText();
  expect(outbox).toContain('Avant de partir');
  expect(outbox).toContain('Sani i ka taa');
  expect(outbox).not.toMatch(/2237600\d{4}/);
  await screenshot(page, 'campaign-04-emulator');

  // Another campaign, for tomorrow: scheduled, paused, then cancelled from its buttons.
  await page.goto('/console/campaigns/new');
  await page.getByLabel('Nom').fill('Demain');
  await page.getByLabel('Message en Français').fill('Le recrutement gratuit n existe pas.');
  await page.getByLabel('À une date').check();
  await page.getByLabel('Date et heure (Bamako)').fill(new Date(Date.now() + 86_400_000).toISOString().slice(0, 16));
  await page.getByRole('button', { name: 'Créer le brouillon' }).click();
  await page.waitForURL(/\/console\/campaigns\/[0-9a-f-]{36}$/);
  await page.getByRole('button', { name: 'Programmer' }).click();
  await page.getByText('Programmée').first().waitFor();
  await page.getByRole('button', { name: 'Mettre en pause' }).click();
  await page.getByText('En pause').first().waitFor();
  expect(await page.getByRole('button', { name: 'Reprendre' }).count()).toBe(1);
  await page.getByRole('button', { name: 'Annuler' }).click();
  await page.getByText('Annulée').first().waitFor();
  for (const name of ['Programmer', 'Mettre en pause', 'Reprendre', 'Annuler']) expect(await page.getByRole('button', { name, exact: true }).count()).toBe(0);
  await page.goto('/console/campaigns');
  const list = await page.locator('tbody').innerText();
  expect(list).toMatch(/Ségou: partir sans danger\tTerminée\tPrévention\t12\t12\t12\t240/);
  expect(list).toMatch(/Demain\tAnnulée/);
  await screenshot(page, 'campaign-05-list');

  // The one error the browser saw is the refused test send's 400, on purpose.
  expect(errors).toEqual([expect.stringMatching(/status of 400 .*\/test\)$/)]);
}, 90_000);
