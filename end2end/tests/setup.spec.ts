// The compliance setup and invitations in a real browser: an admin adds a topic to the demo
// profile and the contact's center shows it at once, a refused field is said beside it,
// retiring asks first and then hides the topic; markup typed into a name runs nowhere; an
// invited user (JavaScript off) chooses a password from the emailed link and lands in the
// console. Every page passes axe at desktop and phone width; screenshots for people to look at.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import type { Page } from '@playwright/test';
import { test, expect, binaryPath, centerUrl, type Demo } from './server';
import { DESKTOP, PHONE, expectNoViolations } from './helpers';

const PASSWORD = 'violet tram kettle 93';
const SHOTS = path.resolve(__dirname, '..', 'screenshots');
const XSS = `<img src=x onerror="alert('name')"><script>alert('script')</script>`;

test.describe.configure({ mode: 'serial' });

function createAdmin(server: Demo) {
  execFileSync(binaryPath(), ['user', 'create', 'admin@contoso.com', '--role', 'admin'], {
    input: `${PASSWORD}\n`,
    env: {
      ...process.env,
      PREFCENTER_DATABASE_URL: `sqlite://${server.dir}/db.sqlite`,
      PREFCENTER_DATA_DIR: server.dir,
    },
  });
}

async function signIn(page: Page, server: Demo) {
  await page.goto(`${server.base}/admin/sign-in`);
  await page.getByLabel('Email').fill('admin@contoso.com');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Console');
}

async function shot(page: Page, name: string, size: 'desktop' | 'phone') {
  await page.screenshot({ path: path.join(SHOTS, `${name}-${size}.png`), fullPage: true });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow, `${name} scrolls sideways at ${size} size`).toBeLessThanOrEqual(0);
}

test('an admin adds, names and retires a topic, and the contact sees each change', async ({ page, server }) => {
  test.setTimeout(60_000);
  const dialogs: string[] = [];
  page.on('dialog', async (d) => {
    dialogs.push(d.message());
    await d.dismiss();
  });
  createAdmin(server);
  await page.setViewportSize(DESKTOP);
  await signIn(page, server);
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Setup' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Compliance profiles');
  await expectNoViolations(page, 'the profiles list');
  await page.getByRole('link', { name: 'Contoso' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Contoso');
  await expectNoViolations(page, 'a profile with its purposes and topics');
  await shot(page, 'console-profile', 'desktop');

  // A topic without a name is refused beside the field; then it is added.
  await page.getByRole('link', { name: 'Add a topic to Commercial' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('New topic in Commercial');
  await page.getByLabel('Key').fill('webinars');
  await page.getByRole('button', { name: 'Add the topic' }).click();
  await expect(page.locator('#f-name-error')).toHaveText('Enter a name.');
  await expect(page.getByLabel('Name', { exact: true })).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByLabel('Key')).toHaveValue('webinars');
  await expectNoViolations(page, 'the topic form with an error beside its field');
  await shot(page, 'console-topic-error', 'desktop');
  await page.getByLabel('Name', { exact: true }).fill('Webinars');
  await page.locator('#f-description').fill('Online sessions, twice a month.');
  await page.getByRole('button', { name: 'Add the topic' }).click();
  await expect(page.getByRole('status')).toHaveText('Added.');
  await expect(page.locator('li.setup-topic', { hasText: 'Webinars' })).toBeVisible();

  const contact = await page.context().newPage();
  await contact.goto(centerUrl(server.holly));
  await expect(contact.getByText('Online sessions, twice a month.')).toBeVisible();

  // Markup typed into a name is text on the console and on the contact's page.
  await page.getByRole('link', { name: 'Edit Webinars' }).click();
  await page.getByLabel('Name', { exact: true }).fill(XSS);
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('status')).toHaveText('Saved.');
  await expect(page.locator('li.setup-topic .item-name', { hasText: 'onerror' })).toHaveText(XSS);
  await contact.reload();
  await expect(contact.getByText(XSS, { exact: true }).first()).toBeVisible();
  expect(await page.locator('img[src="x"]').count()).toBe(0);
  expect(await contact.locator('img[src="x"]').count()).toBe(0);

  // Retiring asks first, then the topic leaves the contact's page.
  await page.getByRole('link', { name: `Retire ${XSS}` }).click();
  await expect(page.getByRole('heading', { level: 1 })).toContainText('Retire');
  await expectNoViolations(page, 'the question before retiring');
  await page.getByRole('button', { name: /^Retire / }).click();
  await expect(page.getByRole('status')).toHaveText('Retired: it no longer appears on the pages.');
  await expect(page.locator('li.setup-topic.retired')).toContainText('Retired');
  await contact.reload();
  await expect(contact.getByText('Online sessions, twice a month.')).toHaveCount(0);
  await expect(contact.getByRole('heading', { level: 1 })).toHaveText('Your communication preferences');

  // A new profile's form, with its messages.
  await page.goto(`${server.base}/admin/profiles/new`);
  await page.getByLabel('Privacy policy address').fill('javascript:alert(1)');
  await page.getByRole('button', { name: 'Create the profile' }).click();
  await expect(page.getByRole('alert')).toContainText('fields need attention');
  await expect(page.locator('#f-privacy_url-error')).toContainText('https://');
  await expectNoViolations(page, 'the new profile form with its errors');
  await shot(page, 'console-profile-form', 'desktop');
  expect(dialogs, 'no script ran').toEqual([]);
});

test('an invited user chooses a password from the emailed link, without JavaScript', async ({ page, browser, server }) => {
  test.setTimeout(60_000);
  await page.setViewportSize(PHONE);
  await signIn(page, server);
  await expectNoViolations(page, 'the console home at phone width');
  await page.getByRole('link', { name: 'Setup' }).first().click();
  await expectNoViolations(page, 'the profiles list at phone width');
  await page.getByRole('link', { name: 'Contoso' }).click();
  await expectNoViolations(page, 'a profile at phone width');
  await shot(page, 'console-profile', 'phone');
  await page.getByRole('link', { name: 'Edit Commercial' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Purpose in Contoso');
  await expectNoViolations(page, 'the purpose form at phone width');
  await shot(page, 'console-purpose-form', 'phone');

  await page.goto(`${server.base}/admin/users`);
  await page.getByLabel('Email', { exact: true }).fill('new.person@contoso.com');
  await page.getByLabel('Role', { exact: true }).selectOption('staff');
  await page.getByRole('button', { name: 'Send the invitation' }).click();
  await expect(page.getByRole('status')).toHaveText('Invitation sent to new.person@contoso.com.');
  await expect(page.getByRole('row', { name: /new.person@contoso.com/ })).toContainText('Invited by admin@contoso.com');
  await expectNoViolations(page, 'the users page with an invitation, at phone width');
  await shot(page, 'console-users', 'phone');

  // The demo prints the link of the email it kept (no SMTP server here).
  let link = '';
  await expect
    .poll(() => {
      const line = server.output.find((l) => l.includes('/admin/invite/'));
      link = line?.match(/https?:\/\/\S+\/admin\/invite\/[A-Za-z0-9_-]+/)?.[0] ?? '';
      return link;
    })
    .not.toBe('');
  // Looking at it changes nothing (axe needs JavaScript: this page has it).
  const lookContext = await browser.newContext({ viewport: PHONE });
  const look = await lookContext.newPage();
  await look.goto(link);
  await expect(look.getByRole('heading', { level: 1 })).toHaveText('Join the console');
  await expectNoViolations(look, 'the invitation page');
  await shot(look, 'console-invite', 'phone');
  await lookContext.close();
  const context = await browser.newContext({ javaScriptEnabled: false, viewport: PHONE });
  const invited = await context.newPage();
  await invited.goto(link);
  await expect(invited.getByLabel('Email')).toHaveValue('new.person@contoso.com');
  await invited.getByLabel('Password', { exact: true }).fill('amber lantern quietly 27');
  await invited.getByLabel('Password again').fill('amber lantern quietly 27');
  await invited.getByRole('button', { name: 'Join' }).click();
  await expect(invited.getByRole('heading', { level: 1 })).toHaveText('Console');
  await expect(invited.getByText('You are signed in as new.person@contoso.com')).toBeVisible();
  // Staff have no setup.
  const forbidden = await invited.goto(`${server.base}/admin/profiles`);
  expect(forbidden!.status()).toBe(403);
  // The link worked once.
  const again = await invited.goto(link);
  expect(again!.status()).toBe(410);
  await context.close();
});
