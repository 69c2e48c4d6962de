// Consent receipts: the contact downloads the receipt of a change from the "what changed"
// page, checks it on the public page (upload, or paste) and sees it genuine and current;
// after she changes her mind, the same receipt is genuine but no longer current; a receipt
// changed by one character is refused. The same with JavaScript disabled. Both pages pass axe.
import * as fs from 'node:fs';
import type { Page } from '@playwright/test';
import { test, expect } from './server';
import { expectDonePage, expectNoViolations, PHONE } from './helpers';

const h1 = (page: Page) => page.getByRole('heading', { level: 1 });

/** Unsubscribes from the first listed topic; returns the done page's URL and the receipt. */
async function unsubscribeAndDownload(page: Page, link: string): Promise<{ done: string; file: string }> {
  await page.goto(link);
  await page.locator('li.topic').first().getByRole('button', { name: /^Unsubscribe from / }).click();
  await expectDonePage(page);
  await expect(page.getByRole('heading', { name: 'Your receipt' })).toBeVisible();
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Download the receipt' }).click(),
  ]);
  expect(download.suggestedFilename()).toMatch(/^consent-receipt-\d{4}-\d{2}-\d{2}-[A-Za-z0-9_-]+\.jws$/);
  const file = await download.path();
  expect(fs.readFileSync(file, 'utf8').split('.')).toHaveLength(3);
  return { done: page.url(), file };
}

async function checkFile(page: Page, file: string) {
  await page.getByLabel("Or the receipt's file (.jws)").setInputFiles(file);
  await page.getByRole('button', { name: 'Check the receipt' }).click();
}

async function checkText(page: Page, text: string) {
  await page.getByLabel("The receipt's text").fill(text);
  await page.getByRole('button', { name: 'Check the receipt' }).click();
}

async function undo(page: Page, done: string) {
  await page.goto(done);
  await page.getByRole('button', { name: 'Undo this change' }).click();
  await expect(h1(page)).toHaveText('Your change was undone');
}

/** The receipt with one character of its signed content changed. */
function oneCharChanged(jws: string): string {
  const [head, body, sig] = jws.trim().split('.');
  const i = Math.floor(body.length / 2);
  const c = body[i] === 'A' ? 'B' : 'A';
  return `${head}.${body.slice(0, i)}${c}${body.slice(i + 1)}.${sig}`;
}

test('a receipt is genuine and current, then genuine but no longer current after she changes her mind', async ({
  page,
  server,
}) => {
  const { done, file } = await unsubscribeAndDownload(page, server.holly);
  await expectNoViolations(page, 'the done page with its receipt');

  // From the done page to the check, as she would go.
  await page.getByRole('link', { name: 'Check a receipt' }).click();
  await expect(h1(page)).toHaveText('Check a consent receipt');
  await expectNoViolations(page, 'the receipt check page');
  await checkFile(page, file);
  await expect(h1(page)).toHaveText('This receipt is genuine');
  await expect(page.locator('#currency')).toHaveText(/^Still current/);
  await expect(page.getByText('h***y@contoso.com')).toBeVisible();
  await expect(page.locator('ul.changes > li')).toHaveText([/receives → does not receive$/]);
  await expectNoViolations(page, 'a genuine, current receipt');

  await undo(page, done);
  await page.goto(`${server.base}/receipt`);
  await checkFile(page, file);
  await expect(h1(page)).toHaveText('This receipt is genuine');
  await expect(page.locator('#currency')).toHaveText(/^No longer current/);
  await expectNoViolations(page, 'a genuine receipt that no longer stands');

  // One character changed: refused, and said why.
  await checkText(page, oneCharChanged(fs.readFileSync(file, 'utf8')));
  await expect(h1(page)).toHaveText('This is not a valid receipt');
  await expect(page.locator('#why')).toContainText('signature does not match');
  await expectNoViolations(page, 'a refused receipt');
});

test.describe('with JavaScript disabled, on a phone', () => {
  test.use({ javaScriptEnabled: false, viewport: PHONE });

  test('download, paste and check work as plain forms', async ({ page, server }) => {
    const { done, file } = await unsubscribeAndDownload(page, server.frank);
    await page.goto(`${server.base}/receipt`);
    await checkText(page, fs.readFileSync(file, 'utf8'));
    await expect(h1(page)).toHaveText('This receipt is genuine');
    await expect(page.locator('#currency')).toHaveText(/^Still current/);
    await undo(page, done);
    await page.goto(`${server.base}/receipt`);
    await checkFile(page, file);
    await expect(page.locator('#currency')).toHaveText(/^No longer current/);
    // Nothing given: asked for it, not an error page.
    await page.getByRole('button', { name: 'Check the receipt' }).click();
    await expect(page.locator('#why')).toHaveText('Paste a receipt or choose its file first.');
  });
});
