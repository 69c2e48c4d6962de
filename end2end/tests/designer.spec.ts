// The form designer in a real browser: an admin designs Contoso's pages in English and German
// (colour, font, header line, a heading), sees the draft in the preview beside the editor
// while contacts still see the old design, publishes, and then Lena (no stored language) gets
// the new design in German from her browser and in Arabic, right to left, with `?lang=ar`;
// version 1 still opens as it was. axe at desktop and phone width; screenshots.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import type { Page } from '@playwright/test';
import { test, expect, binaryPath, centerUrl, type Demo } from './server';
import { DESKTOP, PHONE, expectNoViolations } from './helpers';

const PASSWORD = 'violet tram kettle 93';
const SHOTS = path.resolve(__dirname, '..', 'screenshots');
const GERMAN_HEADING = 'Was möchten Sie von Contoso hören?';

test.describe.configure({ mode: 'serial' });

async function signIn(page: Page, server: Demo) {
  await page.goto(`${server.base}/admin/sign-in`);
  await page.getByLabel('Email').fill('admin@contoso.com');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Console');
}

test('design, preview, publish; German and Arabic pages follow; version 1 stays', async ({ page, browser, server }) => {
  test.setTimeout(90_000);
  execFileSync(binaryPath(), ['user', 'create', 'admin@contoso.com', '--role', 'admin'], {
    input: `${PASSWORD}\n`,
    env: { ...process.env, PREFCENTER_DATABASE_URL: `sqlite://${server.dir}/db.sqlite`, PREFCENTER_DATA_DIR: server.dir },
  });
  await page.setViewportSize({ width: 1440, height: 900 });
  await signIn(page, server);
  await page.goto(`${server.base}/admin/profiles`);
  await page.getByRole('link', { name: 'Contoso' }).click();
  await page.getByRole('link', { name: 'Design the pages' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Preference form design');

  // A logo (checked by its bytes), then the rest.
  await page.locator('#f-logo').setInputFiles(path.join(__dirname, 'logo.png'));
  await page.getByRole('button', { name: 'Upload the logo' }).click();
  await expect(page.getByRole('img', { name: 'The logo now in the draft' })).toBeVisible();
  // English and German: colour, font, header lines, a heading; Events left out.
  await page.locator('#f-primary').fill('#7a1f5c');
  await page.locator('#f-font-serif').check();
  await page.locator('#f-header_en').fill('Your choice, any time');
  await page.locator('#f-header_de').fill('Ihre Wahl, jederzeit');
  await page.locator('summary', { hasText: 'Deutsch' }).click();
  await page.locator('#f-text_de_center_title').fill(GERMAN_HEADING);
  await page.locator('#f-text_en_center_title').fill('What would you like to hear from Contoso?');
  await page.locator('#f-show-commercial-events').uncheck();
  await page.getByRole('button', { name: 'Save the draft' }).click();
  await expect(page.getByRole('status').first()).toContainText('Draft saved');
  // The preview shows the draft; the contact's page does not, yet.
  const preview = page.frameLocator('iframe[title="Preference center at desktop width"]');
  await expect(preview.getByRole('heading', { level: 1 })).toHaveText('What would you like to hear from Contoso?');
  const lena = server.links['lena@contoso.com'];
  const contact = await browser.newContext({ locale: 'de-DE', viewport: DESKTOP });
  const lenaPage = await contact.newPage();
  await lenaPage.goto(centerUrl(lena));
  await expect(lenaPage.getByRole('heading', { level: 1 })).not.toHaveText(GERMAN_HEADING);
  await expect(lenaPage.getByText('Veranstaltungen')).toBeVisible();
  await expectNoViolations(page, 'the designer', '.previews iframe');
  await page.screenshot({ path: path.join(SHOTS, 'console-designer-desktop.png'), fullPage: true });
  // The preview in German.
  await page.getByRole('link', { name: 'Deutsch' }).click();
  await expect(preview.getByRole('heading', { level: 1 })).toHaveText(GERMAN_HEADING);

  await page.getByRole('button', { name: 'Publish the draft' }).click();
  await expect(page.getByRole('status').first()).toHaveText('Published: contacts see this design from now on.');
  await expect(page.getByRole('row', { name: /2 \(shown now\)/ })).toBeVisible();

  // Lena's browser is German: the new design, in German, without Events.
  await lenaPage.reload();
  await expect(lenaPage.getByRole('heading', { level: 1 })).toHaveText(GERMAN_HEADING);
  await expect(lenaPage.locator('.brandline')).toHaveText('Ihre Wahl, jederzeit');
  await expect(lenaPage.getByRole('img', { name: 'Contoso' })).toBeVisible();
  await expect(lenaPage.getByText('Veranstaltungen')).toHaveCount(0);
  const bar = await lenaPage.locator('.brandbar').evaluate((e) => getComputedStyle(e).backgroundColor);
  expect(bar).toBe('rgb(122, 31, 92)');
  await expectNoViolations(lenaPage, 'the published design in German');
  await lenaPage.screenshot({ path: path.join(SHOTS, 'published-de-desktop.png'), fullPage: true });
  // ?lang=ar: Arabic, right to left, the same design.
  const ar = new URL(centerUrl(lena));
  ar.searchParams.set('lang', 'ar');
  await lenaPage.setViewportSize(PHONE);
  await lenaPage.goto(ar.toString());
  await expect(lenaPage.locator('html')).toHaveAttribute('dir', 'rtl');
  expect(await lenaPage.locator('.brandbar').evaluate((e) => getComputedStyle(e).backgroundColor)).toBe('rgb(122, 31, 92)');
  await expectNoViolations(lenaPage, 'the published design in Arabic at phone width');
  await lenaPage.screenshot({ path: path.join(SHOTS, 'published-ar-phone.png'), fullPage: true });
  await contact.close();

  // Version 1 opens as its contacts saw it.
  await page.getByRole('link', { name: 'Open version 1' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Your communication preferences');
  await expect(page.getByText('Events', { exact: true })).toBeVisible();
  expect(await page.locator('.brandbar').evaluate((e) => getComputedStyle(e).backgroundColor)).toBe('rgb(15, 95, 168)');

  // The designer at phone width.
  await page.setViewportSize(PHONE);
  await page.goto(`${server.base}/admin/profiles`);
  await page.getByRole('link', { name: 'Contoso' }).click();
  await page.getByRole('link', { name: 'Design the pages' }).click();
  await expectNoViolations(page, 'the designer at phone width', '.previews iframe');
  await page.screenshot({ path: path.join(SHOTS, 'console-designer-phone.png'), fullPage: true });
});

test('the preview follows the form as the admin types, saves nothing, and works without JavaScript', async ({ page, browser, server }) => {
  test.setTimeout(60_000);
  // The admin of the test above (same server: the suite runs in order).
  await page.setViewportSize({ width: 1440, height: 900 });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await signIn(page, server);
  await page.goto(`${server.base}/admin/profiles`);
  await page.getByRole('link', { name: 'Contoso' }).click();
  await page.getByRole('link', { name: 'Design the pages' }).click();
  // The island hydrated (the loader ran under the console's CSP: no violation reported).
  const live = page.locator('.live-status');
  // The bundle loads when the browser is idle: allow for a busy machine.
  await expect(live).toContainText('The preview follows your changes as you type', { timeout: 20_000 });
  // Typing: every preview follows, nothing is saved.
  await page.locator('#f-header_en').fill('Typed, not saved');
  const desktop = page.frameLocator('iframe[name="preview-desktop"]');
  const phone = page.frameLocator('iframe[name="preview-unsubscribe"]');
  await expect(desktop.locator('.brandline')).toHaveText('Typed, not saved');
  await expect(phone.locator('.brandline')).toHaveText('Typed, not saved');
  await expect(live).toContainText('not saved yet');
  // A pale colour: the contrast warning appears as it is chosen, and the preview takes it.
  await page.locator('#f-primary').fill('#ffd966');
  await expect(live.locator('.warning').first()).toContainText('4.5:1');
  await expect
    .poll(async () => desktop.locator('.brandbar').evaluate((e) => getComputedStyle(e).backgroundColor))
    .toBe('rgb(255, 217, 102)');
  await expectNoViolations(page, 'the designer while previewing live', '.previews iframe');
  await page.screenshot({ path: path.join(SHOTS, 'console-designer-live.png') });
  // Nothing was saved: the page comes back with the saved draft, contacts see the published one.
  await page.reload();
  await expect(page.locator('#f-header_en')).toHaveValue('Your choice, any time');
  expect(errors, errors.join('\n')).toEqual([]);

  // Without JavaScript: no island, the "Preview changes" button posts the form into the
  // large preview.
  const nojs = await browser.newContext({ javaScriptEnabled: false, viewport: DESKTOP });
  const p = await nojs.newPage();
  await signIn(p, server);
  await p.goto(page.url());
  await expect(p.locator('.live-status')).toHaveText('');
  await p.locator('#f-header_en').fill('Previewed by the button');
  await p.getByRole('button', { name: 'Preview changes' }).click();
  await expect(p.frameLocator('iframe[name="preview-desktop"]').locator('.brandline')).toHaveText('Previewed by the button');
  await expect(p.locator('#f-header_en')).toHaveValue('Previewed by the button');
  await nojs.close();
});
