// Test 4: "Unsubscribe from everything".
import { test, expect, centerUrl } from './server';
import { channelBox, changeLines, expectDonePage, expectUnsubscribePage, listedTopics } from './helpers';

const NOTHING = 'You are not subscribed to any of our optional emails.';

test('unsubscribe holly from everything on the unsubscribe page', async ({ page, server }) => {
  await page.goto(server.holly);
  await expectUnsubscribePage(page);
  expect(await listedTopics(page)).toEqual(['Product updates', 'Events']);
  await expect(page.getByText(NOTHING)).toHaveCount(0);

  await page.getByRole('button', { name: 'Unsubscribe from everything' }).click();
  await expectDonePage(page);
  // Once per topic, with every channel it stops on; the Newsletter was never on.
  await expect(page.getByRole('heading', { level: 2, name: 'You will no longer receive:' })).toBeVisible();
  expect(await changeLines(page)).toEqual(['Product updates by email and text message', 'Events by email']);

  await page.goto(server.holly);
  await expectUnsubscribePage(page);
  await expect(page.getByText(NOTHING)).toBeVisible();
  await expect(page.locator('li.topic')).toHaveCount(0);
  await expect(page.getByRole('button', { name: /^Unsubscribe from (?!everything)/ })).toHaveCount(0);

  // The center shows every email box unticked.
  await page.goto(centerUrl(server.holly));
  for (const t of ['Newsletter', 'Product updates', 'Events']) {
    await expect(channelBox(page, t, 'Email'), `${t} — Email`).not.toBeChecked();
  }
  // "Stops every optional message from us": the text-message boxes too.
  for (const t of ['Newsletter', 'Product updates', 'Events']) {
    await expect.soft(channelBox(page, t, 'Text message'), `${t} — Text message`).not.toBeChecked();
  }
});

test('unsubscribe frank from everything in the subscription center', async ({ page, server }) => {
  await page.goto(centerUrl(server.frank));
  await page.getByRole('button', { name: 'Unsubscribe from everything' }).click();
  await expectDonePage(page);
  expect(await changeLines(page)).toEqual(['Newsletter by email', 'Events by email']);
  await page.goto(server.frank);
  await expect(page.getByText(NOTHING)).toBeVisible();
  await expect(page.locator('li.topic')).toHaveCount(0);
});
