// The staff desk in a real browser, with a real SMTP server (a small one in this file): a staff
// user finds holly@contoso.com, is refused an empty justification, records a phone opt-out of
// Product updates, sees it on the contact page and in the history; Holly's subscription center
// shows it; Holly is mailed the notice and corrects it from its link. Axe at both widths, with
// JavaScript off for the staff user's second look. Then Lena, from her pages without JavaScript,
// gets a copy of her data from an emailed link, and asks to be forgotten from another.
import { execFileSync } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { test as base, expect } from '@playwright/test';
import { Server, binaryPath, type Demo } from './server';
import { DESKTOP, PHONE, expectNoViolations } from './helpers';

const SHOTS = path.resolve(__dirname, '..', 'screenshots');
const PASSWORD = 'violet tram kettle 93';

/** One message the SMTP server accepted. */
interface Mail {
  to: string[];
  raw: string;
}

/** A minimal SMTP server (RFC 5321's few commands a client without auth or TLS sends). */
class Smtp {
  readonly inbox: Mail[] = [];
  private server = net.createServer((sock) => {
    let buf = '';
    let data = false;
    let to: string[] = [];
    const say = (l: string) => sock.write(`${l}\r\n`);
    say('220 localhost ESMTP test');
    sock.setEncoding('latin1');
    sock.on('data', (chunk: string) => {
      buf += chunk;
      for (;;) {
        if (data) {
          const end = buf.indexOf('\r\n.\r\n');
          if (end < 0) return;
          this.inbox.push({ to, raw: buf.slice(0, end) });
          buf = buf.slice(end + 5);
          data = false;
          to = [];
          say('250 OK queued');
          continue;
        }
        const i = buf.indexOf('\r\n');
        if (i < 0) return;
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const cmd = line.slice(0, 4).toUpperCase();
        if (cmd === 'EHLO' || cmd === 'HELO') say('250 localhost');
        else if (cmd === 'MAIL') say('250 OK');
        else if (cmd === 'RCPT') {
          to.push(line.replace(/^RCPT TO:\s*<?([^>]*)>?.*$/i, '$1'));
          say('250 OK');
        } else if (cmd === 'DATA') {
          data = true;
          say('354 End data with <CR><LF>.<CR><LF>');
        } else if (cmd === 'QUIT') {
          say('221 Bye');
          sock.end();
          return;
        } else if (cmd === 'RSET' || cmd === 'NOOP') say('250 OK');
        else say('502 Command not implemented');
      }
    });
  });

  async listen(): Promise<number> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    return (this.server.address() as net.AddressInfo).port;
  }

  async waitFor(n: number): Promise<Mail[]> {
    for (let i = 0; i < 300; i++) {
      if (this.inbox.length >= n) return this.inbox;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`expected ${n} messages, got ${this.inbox.length}`);
  }

  close() {
    this.server.close();
  }
}

/** The plain-text part of a message, quoted-printable soft breaks joined. */
function plain(raw: string): string {
  return raw.replace(/=\r\n/g, '').replace(/=3D/g, '=');
}

const test = base.extend<{}, { desk: { demo: Demo; smtp: Smtp; server: Server } }>({
  desk: [
    async ({}, use) => {
      const smtp = new Smtp();
      const port = await smtp.listen();
      const server = await Server.start({
        PREFCENTER_SMTP_HOST: '127.0.0.1',
        PREFCENTER_SMTP_PORT: String(port),
        PREFCENTER_SMTP_SECURITY: 'none',
      });
      execFileSync(binaryPath(), ['user', 'create', 'staff@contoso.com', '--role', 'staff'], {
        input: `${PASSWORD}\n`,
        env: {
          ...process.env,
          PREFCENTER_DATABASE_URL: `sqlite://${server.demo.dir}/db.sqlite`,
          PREFCENTER_DATA_DIR: server.demo.dir,
        },
      });
      await use({ demo: server.demo, smtp, server });
      await server.stop();
      smtp.close();
    },
    { scope: 'worker' },
  ],
});

test('staff record a phone opt-out with its justification; Holly is told and corrects it', async ({ page, browser, desk }) => {
  test.setTimeout(120_000);
  const { demo, smtp } = desk;
  await page.setViewportSize(DESKTOP);
  await page.goto(`${demo.base}/admin`);
  await page.getByLabel('Email').fill('staff@contoso.com');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Contacts' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Contacts');
  await expectNoViolations(page, 'the contacts page');

  // Found by her address.
  await page.getByLabel('Find a contact').fill('holly@contoso.com');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page.getByRole('status')).toHaveText('One contact matches.');
  await page.getByRole('link', { name: 'Holly Dickson' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Holly Dickson');
  await expectNoViolations(page, 'the contact page');
  const updatesRow = page
    .locator('section.card', { hasText: 'Email: holly@contoso.com' })
    .getByRole('row', { name: /Product updates/ });
  await expect(updatesRow).toContainText('Opted in');

  // The email section's form: an empty justification is refused (by the browser's own check
  // first; the server's is the integration tests').
  const form = page.locator('form.record-form').first();
  await form.getByLabel('Purpose or topic').selectOption({ label: 'Commercial › Product updates (email)' });
  await form.getByLabel('To stop receiving it (opt-out)').check();
  await form.getByLabel('Call or ticket reference').fill('CALL-4411');
  await form.getByRole('button', { name: 'Record the change' }).click();
  await expect(form.getByLabel('Justification')).toHaveJSProperty('validity.valueMissing', true);
  // Spaces pass the browser but not the server: the error sits beside the field.
  await form.getByLabel('Justification').fill('   ');
  await form.getByRole('button', { name: 'Record the change' }).click();
  await expect(page.locator('form.record-form').first().locator('.form-error')).toHaveText(
    'Say why this change is recorded: what the contact said, and when.',
  );
  await expect(page.locator('form.record-form').first().getByLabel('Call or ticket reference')).toHaveValue('CALL-4411');

  // Recorded.
  const again = page.locator('form.record-form').first();
  await again.getByLabel('Purpose or topic').selectOption({ label: 'Commercial › Product updates (email)' });
  await again.getByLabel('To stop receiving it (opt-out)').check();
  await again.getByLabel('Justification').fill('Holly called at 10:05 and asked to stop product update emails.');
  await again.getByRole('button', { name: 'Record the change' }).click();
  await expect(page.getByRole('status').first()).toContainText('The change is recorded');
  const row = page.locator('section.card', { hasText: 'Email: holly@contoso.com' }).getByRole('row', { name: /Product updates/ });
  await expect(row).toContainText('Opted out');
  await expect(row).toContainText('by phone, recorded by staff (staff@contoso.com)');
  await page.screenshot({ path: path.join(SHOTS, 'desk-contact-desktop.png'), fullPage: true });

  // The history, with JavaScript off and at phone width, names it with its evidence.
  const quiet = await browser.newContext({ javaScriptEnabled: false, viewport: PHONE });
  await quiet.addCookies(await page.context().cookies());
  const phone = await quiet.newPage();
  await phone.goto(page.url().replace(/\?.*$/, '') + '/history');
  await expect(phone.getByRole('heading', { level: 1 })).toHaveText('History: Holly Dickson');
  const first = phone.getByRole('row').nth(1);
  await expect(first).toContainText('Commercial › Product updates');
  await expect(first).toContainText('Opted in → Opted out');
  await expect(first).toContainText('by staff@contoso.com');
  await expect(first).toContainText('Holly called at 10:05');
  await phone.screenshot({ path: path.join(SHOTS, 'desk-history-phone.png'), fullPage: true });
  await quiet.close();
  // Axe (it needs JavaScript) on the same page at phone width.
  await page.setViewportSize(PHONE);
  await page.goto(page.url().replace(/\?.*$/, '') + '/history');
  await expectNoViolations(page, 'the history at phone width');
  await page.setViewportSize(DESKTOP);

  // Her subscription center shows it.
  await page.goto(demo.holly.replace('/u/', '/p/'));
  await expect(page.locator('input[name="t2.email"]')).not.toBeChecked();
  await expect(page.locator('input[name="t2.sms"]')).toBeChecked();

  // The notice, from Contoso, to Holly, with a link to correct it.
  const [notice] = await smtp.waitFor(1);
  expect(notice.to).toEqual(['holly@contoso.com']);
  const text = plain(notice.raw);
  expect(text).toContain('What we recorded about your email preferences');
  expect(text).toContain('Product updates (email): unsubscribed');
  const link = text.match(/https?:\/\/\S+\/p\/[A-Za-z0-9_-]+/)![0];
  await page.goto(link);
  const box = page.locator('input[name="t2.email"]');
  await expect(box).not.toBeChecked();
  await box.check();
  await page.getByRole('button', { name: /Save/ }).click();
  // New subscriptions are confirmed by email first: the confirmation arrives, she confirms.
  const [, confirm] = await smtp.waitFor(2);
  const confirmLink = plain(confirm.raw).match(/https?:\/\/\S+\/c\/[A-Za-z0-9_-]+/)![0];
  await page.goto(confirmLink);
  await page.getByRole('button', { name: /Confirm/ }).click();
  await page.goto(link);
  await expect(page.locator('input[name="t2.email"]')).toBeChecked();
});

/** The first message whose text matches `re` (waiting for it), and the match. */
async function mailMatching(smtp: Smtp, re: RegExp): Promise<RegExpMatchArray> {
  for (let i = 0; i < 300; i++) {
    for (const m of smtp.inbox) {
      const found = plain(m.raw).match(re);
      if (found) return found;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no message matches ${re}`);
}

test('Lena gets a copy of her data, then asks to be forgotten, from her pages without JavaScript', async ({ browser, desk }) => {
  test.setTimeout(120_000);
  const { demo, smtp } = desk;
  const lena = demo.links['lena@contoso.com'].replace('/u/', '/p/');
  const quiet = await browser.newContext({ javaScriptEnabled: false, viewport: PHONE });
  const page = await quiet.newPage();
  await page.goto(lena);
  await expect(page.getByRole('heading', { name: 'Your data' })).toBeVisible();
  await page.getByRole('button', { name: 'Email me a copy of my data' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Check your inbox');
  await expect(page.locator('#sent')).toContainText('download a copy of your data');

  // The emailed link: a page with the downloads, and the package itself.
  const [download] = await mailMatching(smtp, /https?:\/\/\S+\/d\/[A-Za-z0-9_-]+\?lang=\w+/);
  await page.goto(download);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('A copy of your data');
  await page.screenshot({ path: path.join(SHOTS, 'data-download-phone.png'), fullPage: true });
  const href = await page.getByRole('link', { name: 'Download everything (JSON)' }).getAttribute('href');
  const res = await page.request.get(new URL(href!, demo.base).toString());
  expect(res.status()).toBe(200);
  const data = await res.json();
  expect(data.format).toBe('prefcenter-data-package/1');
  expect(data.contact.name).toBe('Lena Müller');
  expect(data.history.length).toBeGreaterThan(0);

  // Forget me: the emailed link's page erases nothing until its button is pressed.
  await page.goto(lena);
  await page.getByRole('button', { name: 'Ask to be forgotten' }).click();
  await expect(page.locator('#sent')).toContainText('confirm the erasure');
  const [forget] = await mailMatching(smtp, /https?:\/\/\S+\/f\/[A-Za-z0-9_-]+\?lang=\w+/);
  await page.goto(forget);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Erase your data');
  await page.screenshot({ path: path.join(SHOTS, 'data-forget-phone.png'), fullPage: true });
  await page.goto(lena);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Your communication preferences');
  await page.goto(forget);
  await page.getByRole('button', { name: 'Erase my data' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Your data is erased');
  // Her links no longer work.
  await page.goto(lena);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('This link is not valid');
  await page.goto(download);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('This link is not valid');
  await quiet.close();
});

test('the data-request pages pass axe at both widths', async ({ page, desk }) => {
  const { demo, smtp } = desk;
  const frank = demo.frank.replace('/u/', '/p/');
  for (const size of [DESKTOP, PHONE]) {
    await page.setViewportSize(size);
    await page.goto(frank);
    await expectNoViolations(page, 'the center with its data section');
  }
  await page.getByRole('button', { name: 'Email me a copy of my data' }).click();
  await expectNoViolations(page, 'the sent page');
  const frankMail = /https?:\/\/\S+\/d\/[A-Za-z0-9_-]+\?lang=\w+/g;
  let link = '';
  for (let i = 0; i < 300 && !link; i++) {
    for (const m of smtp.inbox) {
      if (m.to.includes('frank@contoso.com')) {
        const found = plain(m.raw).match(frankMail);
        if (found) link = found[0];
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(link).not.toBe('');
  for (const size of [DESKTOP, PHONE]) {
    await page.setViewportSize(size);
    await page.goto(link);
    await expectNoViolations(page, 'the download page');
  }
});
