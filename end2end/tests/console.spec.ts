// The console's door in a real browser: the setup step (the CLI) creates the first admin and a
// staff user; the admin signs in (with JavaScript off too), sees the users, disables the staff
// user, whose next page sends them to sign in again; a staff user gets 403 on the admin page;
// sign-out works; every page passes axe at desktop and phone width.
import { execFileSync } from 'node:child_process';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import type { Page } from '@playwright/test';
import { test, expect, binaryPath, type Demo } from './server';
import { DESKTOP, PHONE, expectNoViolations } from './helpers';

const SHOTS = path.resolve(__dirname, '..', 'screenshots');

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

async function signIn(page: Page, server: Demo, email: string, password = PASSWORD) {
  await page.goto(`${server.base}/admin`);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Sign in to the console');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

test.describe.configure({ mode: 'serial' });

/** The one-time setup code the server printed at start (no user existed). */
function setupCode(server: Demo): string {
  const line = server.output.find((l) => l.includes('with the one-time code'));
  const m = line?.match(/one-time code ([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})/);
  if (!m) throw new Error(`no setup code in the server's output:\n${server.output.join('\n')}`);
  return m[1];
}

test('the setup step, sign-in, users, disabling and sign-out', async ({ page, browser, server }) => {
  // The first admin, on the setup page, with the code the server printed.
  await page.setViewportSize(DESKTOP);
  await page.goto(`${server.base}/admin/setup`);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Set up the console');
  await expectNoViolations(page, 'the setup page');
  await page.getByLabel('One-time code').fill('WRON-GCOD-E222');
  await page.getByLabel('Your email').fill('admin@contoso.com');
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByLabel('Password again').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create the administrator' }).click();
  await expect(page.locator('#code-error')).toHaveText('This is not the code the server printed.');
  await expect(page.getByLabel('One-time code')).toHaveAttribute('aria-invalid', 'true');
  await expectNoViolations(page, 'the setup page with an error beside its field');
  await page.getByLabel('One-time code').fill(setupCode(server));
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByLabel('Password again').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create the administrator' }).click();
  await expect(page.getByRole('status')).toHaveText('Your administrator account is ready. Sign in with it.');
  createUser(server, 'staff@contoso.com', 'staff');

  await signIn(page, server, 'admin@contoso.com', 'not the password at all');
  await expect(page.getByRole('alert')).toHaveText('Invalid email or password.');
  await expect(page.getByLabel('Email')).toHaveValue('admin@contoso.com');
  await expectNoViolations(page, 'the sign-in page with its error');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Console');
  await expect(page.getByText('You are signed in as admin@contoso.com')).toBeVisible();
  await expectNoViolations(page, 'the console home');

  // The staff user, in a browser of their own, with JavaScript off.
  const staffContext = await browser.newContext({ javaScriptEnabled: false, viewport: PHONE });
  const staff = await staffContext.newPage();
  await signIn(staff, server, 'staff@contoso.com');
  await expect(staff.getByRole('heading', { level: 1 })).toHaveText('Console');
  await expect(staff.getByRole('link', { name: 'Users' })).toHaveCount(0);
  const forbidden = await staff.goto(`${server.base}/admin/users`);
  expect(forbidden!.status()).toBe(403);
  await expect(staff.getByRole('heading', { level: 1 })).toHaveText('Not allowed');

  // The admin disables them; their next page asks them to sign in again.
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Users' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Users');
  await expect(page.getByRole('row')).toHaveCount(3);
  await expectNoViolations(page, 'the users page');
  await page.getByRole('button', { name: 'Disable staff@contoso.com' }).click();
  await expect(page.getByRole('row', { name: /staff@contoso.com/ })).toContainText('Disabled');
  await staff.goto(`${server.base}/admin`);
  await expect(staff.getByRole('heading', { level: 1 })).toHaveText('Sign in to the console');
  await expect(staff.getByRole('status')).toHaveText('Your session was ended by an administrator.');
  await staffContext.close();

  // The audit log names it, with who did it.
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Audit log' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Audit log');
  await expect(page.getByRole('row', { name: /user\.disable/ })).toContainText('admin@contoso.com');
  await expectNoViolations(page, 'the audit log');

  // Sign-out.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('status')).toHaveText('You are signed out.');
  await page.goto(`${server.base}/admin/users`);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Sign in to the console');
});

test('console pages pass axe at phone width', async ({ page, server }) => {
  await page.setViewportSize(PHONE);
  await signIn(page, server, 'admin@contoso.com');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Console');
  await expectNoViolations(page, 'the console home at phone width');
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Users' }).click();
  await expectNoViolations(page, 'the users page at phone width');
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Audit log' }).click();
  await expectNoViolations(page, 'the audit log at phone width');
  // API keys: one made (shown once, selectable), listed, then the page at both widths.
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'API keys' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('API keys');
  await page.getByLabel('Name').fill('Newsletter ESP');
  await page.getByRole('button', { name: 'Make the key' }).click();
  await expect(page.getByLabel('The key', { exact: true })).toHaveValue(/^pck_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$/);
  await expect(page.getByRole('row', { name: /Newsletter ESP/ })).toContainText('Never used');
  await expectNoViolations(page, 'the API keys page with a new key, at phone width');
  await page.setViewportSize(DESKTOP);
  await expectNoViolations(page, 'the API keys page with a new key');
  await page.screenshot({ path: path.join(SHOTS, 'console-api-keys-desktop.png'), fullPage: true });
  await page.setViewportSize(PHONE);
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Your account' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Your account');
  await page.getByLabel('Current password').fill('not it at all 123');
  await page.getByLabel('New password', { exact: true }).fill('amber lantern quietly 27');
  await page.getByLabel('New password again').fill('amber lantern quietly 27');
  await page.getByRole('button', { name: 'Change the password' }).click();
  await expect(page.locator('#current-error')).toHaveText('This is not your current password.');
  await expectNoViolations(page, 'the account page with an error, at phone width');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expectNoViolations(page, 'the sign-in page at phone width');
});

test('webhooks: an endpoint registered, its deliveries listed and one sent again', async ({ page, server }) => {
  // A receiver on this machine, taking whatever comes.
  const got: { id: string; body: string }[] = [];
  const receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      got.push({ id: String(req.headers['webhook-id'] ?? ''), body });
      res.statusCode = 204;
      res.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', () => resolve()));
  const port = (receiver.address() as AddressInfo).port;
  try {
    await page.setViewportSize(PHONE);
    await signIn(page, server, 'admin@contoso.com');
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Webhooks' }).click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Webhooks');
    await expect(page.getByText('No endpoint yet.')).toBeVisible();
    // A refused address is said beside its field.
    await page.getByLabel('URL').fill('ftp://crm.example.com/hook');
    await page.getByRole('button', { name: 'Register the endpoint' }).click();
    await expect(page.locator('#hook-url-error')).toContainText('starting with https://');
    await expect(page.getByLabel('URL')).toHaveAttribute('aria-invalid', 'true');
    await expectNoViolations(page, 'the webhooks page with an error, at phone width');
    await page.getByLabel('URL').fill(`http://127.0.0.1:${port}/hook`);
    await page.getByLabel('Description').fill('CRM');
    await page.getByRole('button', { name: 'Register the endpoint' }).click();
    await expect(page.getByLabel('Signing secret')).toHaveValue(/^whsec_[A-Za-z0-9+/]{43}=$/);
    await expectNoViolations(page, 'the webhooks page with a new endpoint, at phone width');

    // Holly unsubscribes in one click; the receiver hears of it.
    const res = await page.request.post(server.holly, { form: { 'List-Unsubscribe': 'One-Click' } });
    expect(res.status()).toBe(200);
    await expect.poll(() => got.length, { timeout: 15_000 }).toBeGreaterThan(0);
    const first = JSON.parse(got[0].body);
    expect(first.type).toBe('consent.changed');
    expect(first.data.address).toBe('holly@contoso.com');

    await page.getByRole('link', { name: `http://127.0.0.1:${port}/hook` }).click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(`http://127.0.0.1:${port}/hook`);
    await expect(async () => {
      await page.reload();
      await expect(page.getByRole('row', { name: new RegExp(got[0].id) })).toContainText('Delivered');
    }).toPass({ timeout: 15_000 });
    await expect(page.getByRole('row', { name: new RegExp(got[0].id) })).toContainText('204');
    await expectNoViolations(page, 'a webhook endpoint and its deliveries, at phone width');
    await page.screenshot({ path: path.join(SHOTS, 'console-webhook-phone.png'), fullPage: true });
    await page.setViewportSize(DESKTOP);
    await expectNoViolations(page, 'a webhook endpoint and its deliveries');
    await page.screenshot({ path: path.join(SHOTS, 'console-webhook-desktop.png'), fullPage: true });

    // Sent again: the receiver gets the same message (same webhook-id) once more.
    const before = got.length;
    await page.getByRole('button', { name: `Send ${got[0].id} again` }).click();
    await expect(page.getByRole('status')).toHaveText('The message is queued to be sent again.');
    await expect.poll(() => got.length, { timeout: 15_000 }).toBeGreaterThan(before);
    expect(got.slice(before).map((g) => g.id)).toContain(got[0].id);
  } finally {
    receiver.close();
  }
});
