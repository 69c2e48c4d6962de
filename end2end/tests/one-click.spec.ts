// Test 6: RFC 8058 one-click unsubscribe (POST List-Unsubscribe=One-Click to the link).
import { test, expect, centerUrl } from './server';
import { channelBox, listedTopics } from './helpers';

const NOTHING = 'You are not subscribed to any of our optional emails.';

test('one-click, url-encoded, without cookies: 200 twice, then nothing subscribed (holly)', async ({ page, playwright, server }) => {
  // A fresh request context: no cookies, no browser state, as a mail provider would send it.
  const mailer = await playwright.request.newContext({ storageState: { cookies: [], origins: [] } });
  try {
    for (let i = 1; i <= 2; i++) {
      const res = await mailer.post(server.holly, { form: { 'List-Unsubscribe': 'One-Click' }, maxRedirects: 0 });
      expect(res.status(), `one-click POST #${i}`).toBe(200);
      expect(res.headers()['location'], 'no redirect').toBeUndefined();
      expect(res.headers()['set-cookie'], 'no cookie').toBeUndefined();
    }
  } finally {
    await mailer.dispose();
  }

  await page.goto(server.holly);
  await expect(page.getByText(NOTHING)).toBeVisible();
  expect(await listedTopics(page)).toEqual([]);
  await page.goto(centerUrl(server.holly));
  for (const t of ['Newsletter', 'Product updates', 'Events']) {
    await expect(channelBox(page, t, 'Email'), `${t} — Email`).not.toBeChecked();
  }
});

test('one-click, multipart/form-data: 200, then nothing subscribed (frank)', async ({ page, playwright, server }) => {
  const mailer = await playwright.request.newContext({ storageState: { cookies: [], origins: [] } });
  try {
    const res = await mailer.post(server.frank, { multipart: { 'List-Unsubscribe': 'One-Click' }, maxRedirects: 0 });
    expect(res.status()).toBe(200);
    expect(res.headers()['location']).toBeUndefined();
  } finally {
    await mailer.dispose();
  }
  await page.goto(server.frank);
  await expect(page.getByText(NOTHING)).toBeVisible();
  expect(await listedTopics(page)).toEqual([]);
});
