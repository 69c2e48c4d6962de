// The console's consent import in a real browser: an admin uploads a long CSV, maps an option
// the file names its own way to a topic, sees the dry run (nothing written, the refused row
// listed with why), imports, and follows the progress to the end; the contact's consent is the
// file's. Then an analyst builds the segment "Newsletter allowed on email" and downloads exactly
// its contacts, and the dashboard counts the import's opt-in. Axe at desktop and phone width;
// the mapping step and the segment editor again with JavaScript off (axe needs a script: it
// checks those pages with JavaScript on).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import type { Page } from '@playwright/test';
import { test, expect, binaryPath, type Demo } from './server';
import { DESKTOP, PHONE, escapeRe, expectNoViolations } from './helpers';

const PASSWORD = 'violet tram kettle 93';

function createUser(server: Demo, email: string, role: string) {
  execFileSync(binaryPath(), ['user', 'create', email, '--role', role], {
    input: `${PASSWORD}\n`,
    env: {
      ...process.env,
      PREFCENTER_DATABASE_URL: `sqlite://${server.dir}/db.sqlite`,
      PREFCENTER_DATA_DIR: server.dir,
    },
  });
}

async function signIn(page: Page, server: Demo, email = 'admin@contoso.com') {
  await page.goto(`${server.base}/admin`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('navigation', { name: 'Console' })).toBeVisible();
}

const FILE = [
  'Consent ID,Email,Consent option,Consent value',
  '1,frank@contoso.com,Newsletter,False',
  '2,frank@contoso.com,Pigeon post,True',
  '3,nora@example.com,Newsletter,True',
  '4,not-an-address,Newsletter,True',
].join('\n');

/** The opt-ins the dashboard's chart of `name` counts (from the chart's summary). */
async function optIns(page: Page, name: string): Promise<number> {
  const trend = page.locator('section.trend').filter({ has: page.getByRole('heading', { name, exact: true }) });
  const summary = (await trend.locator('svg > title').textContent()) ?? '';
  const m = summary.match(/: (\d+) opt-ins,/);
  if (!m) throw new Error(`no count in "${summary}"`);
  return Number(m[1]);
}

test('an admin imports a CSV; an analyst exports the segment it feeds; the dashboard counts it', async ({ page, browser, server }) => {
  test.setTimeout(120_000);
  createUser(server, 'admin@contoso.com', 'admin');
  createUser(server, 'analyst@contoso.com', 'analyst');
  await page.setViewportSize(DESKTOP);
  await signIn(page, server);
  // The dashboard before: the demo's own opt-ins.
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Dashboard' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Dashboard');
  const before = await optIns(page, 'Commercial › Newsletter');
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Imports' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Import consent');
  await expectNoViolations(page, 'the imports page');

  await page.getByLabel('CSV file(s)').setInputFiles({ name: 'crm-consent.csv', mimeType: 'text/csv', buffer: Buffer.from(FILE) });
  await page.getByRole('button', { name: 'Upload and map the columns' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Import: crm-consent.csv');
  // Guessed from the header: the layout and every column; the file's own option is not.
  await expect(page.getByLabel('Long: a row per contact and option')).toBeChecked();
  await expect(page.getByLabel('Email', { exact: true })).toHaveValue('email');
  await expect(page.getByLabel('Pigeon post')).toHaveValue('');
  await page.getByLabel('Pigeon post').selectOption({ label: 'Events' });
  await page.getByLabel(/The source confirmed these opt-ins/).check();
  await expectNoViolations(page, 'the mapping step');
  await page.getByRole('button', { name: 'Check (dry run)' }).click();

  const dry = page.locator('#dry-run');
  await expect(dry.getByRole('heading')).toHaveText('Dry run: nothing was written');
  await expect(dry).toContainText('1 contacts would be created');
  await expect(dry).toContainText('3 ledger records would be written');
  await expect(dry).toContainText('1 rows refused');
  await expect(dry.getByRole('row', { name: /^5 Email/ })).toContainText('An email address has an @');
  await expectNoViolations(page, 'the dry run');
  await page.setViewportSize(PHONE);
  await expectNoViolations(page, 'the dry run on a phone');
  await page.setViewportSize(DESKTOP);

  // Frank's consent is not changed by the dry run.
  const frank = `${server.base}/admin/contacts?q=frank%40contoso.com`;
  await dry.getByRole('button', { name: 'Import the other rows now' }).click();
  await expect(page.getByRole('status')).toHaveText(/Done: all 4 rows\.|Importing: \d+ of 4 rows/);
  await expect(page.getByRole('status')).toHaveText('Done: all 4 rows.', { timeout: 15_000 });
  await expect(page.getByRole('listitem').filter({ hasText: 'ledger records written' })).toHaveText('3 ledger records written');
  await expectNoViolations(page, 'the finished import');

  // The contact now has the file's consent.
  await page.goto(frank);
  await page.getByRole('link', { name: 'Frank Lee' }).click();
  const email = page.locator('section.card', { hasText: 'Email: frank@contoso.com' });
  await expect(email.getByRole('row', { name: /Newsletter/ })).toContainText('Opted out');
  await expect(email.getByRole('row', { name: /Events/ })).toContainText('Opted in');

  // The list of imports, and the mapping step of another upload, with JavaScript off.
  const noJs = await browser.newContext({ javaScriptEnabled: false, viewport: PHONE });
  const p = await noJs.newPage();
  await signIn(p, server);
  await p.goto(`${server.base}/admin/imports`);
  await expect(p.getByRole('row', { name: /crm-consent\.csv/ })).toContainText('Done: 4 rows');
  await p.getByLabel('CSV file(s)').setInputFiles({ name: 'again.csv', mimeType: 'text/csv', buffer: Buffer.from(FILE) });
  await p.getByRole('button', { name: 'Upload and map the columns' }).click();
  await expect(p.getByRole('heading', { level: 1 })).toHaveText('Import: again.csv');
  await p.getByRole('button', { name: 'Check (dry run)' }).click();
  await expect(p.locator('#dry-run')).toContainText('ledger records would be written');
  await p.getByRole('button', { name: 'Discard this upload' }).click();
  await expect(p.getByRole('heading', { level: 1 })).toHaveText('Import consent');
  await expect(p.getByRole('row', { name: /again\.csv/ })).toHaveCount(0);
  await noJs.close();

  // An analyst builds "Newsletter allowed on email": Commercial is non-restrictive, so it is
  // everyone not opted out of the newsletter: Lena (the demo's opt-in) and Nora (imported);
  // Holly opted out in the demo, Frank in the file.
  const analystContext = await browser.newContext({ viewport: DESKTOP });
  const a = await analystContext.newPage();
  await signIn(a, server, 'analyst@contoso.com');
  await a.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Segments' }).click();
  await expect(a.getByRole('heading', { level: 1 })).toHaveText('Segments');
  await expectNoViolations(a, 'the segments page');
  await a.getByRole('button', { name: 'New segment' }).click();
  await expect(a.getByRole('heading', { level: 1 })).toHaveText('New segment');
  await a.getByLabel('Name').fill('Newsletter allowed on email');
  await a.getByLabel('Purpose or topic').selectOption({ label: 'Commercial › Newsletter' });
  await a.getByRole('button', { name: 'Count who is in it' }).click();
  await expect(a.locator('#preview').getByRole('status')).toHaveText('2 contact points');
  await expectNoViolations(a, 'the segment editor with a count');
  await a.getByRole('button', { name: 'Save the segment' }).click();
  await expect(a.getByRole('heading', { level: 1 })).toHaveText('Segment: Newsletter allowed on email');
  await expect(a.getByRole('status')).toContainText('2 contact points · Now');
  await expectNoViolations(a, 'a segment');
  await a.setViewportSize(PHONE);
  await expectNoViolations(a, 'a segment on a phone');
  await a.setViewportSize(DESKTOP);
  const [download] = await Promise.all([
    a.waitForEvent('download'),
    a.getByRole('button', { name: 'Download the CSV' }).click(),
  ]);
  const csv = fs.readFileSync(await download.path(), 'utf8').trim().split('\n');
  expect(csv[0]).toBe('address,contact_id,name,unsubscribe_url');
  expect(csv.slice(1).map((l) => l.split(',')[0]).sort()).toEqual(['lena@contoso.com', 'nora@example.com']);
  for (const line of csv.slice(1)) expect(line).toMatch(new RegExp(`,${escapeRe(server.base)}/u/[^,]+$`));

  // The dashboard counts the import's opt-in (Nora's).
  await a.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Dashboard' }).click();
  expect(await optIns(a, 'Commercial › Newsletter')).toBe(before + 1);
  await expectNoViolations(a, 'the dashboard');
  await a.setViewportSize(PHONE);
  await expectNoViolations(a, 'the dashboard on a phone');
  await analystContext.close();

  // The editor adds a rule without JavaScript too.
  const plain = await browser.newContext({ javaScriptEnabled: false, viewport: PHONE });
  const q = await plain.newPage();
  await signIn(q, server, 'analyst@contoso.com');
  await q.goto(`${server.base}/admin/segments`);
  await q.getByRole('button', { name: 'New segment' }).click();
  await q.getByLabel('Add a rule').selectOption({ label: 'Language' });
  await q.getByRole('button', { name: 'Add the rule' }).click();
  await expect(q.getByRole('group', { name: 'Rule 2: Language' })).toBeVisible();
  await plain.close();
});
