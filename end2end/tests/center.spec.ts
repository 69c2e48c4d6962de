// Test 3: the subscription center without JavaScript: untick a box, tick a new one, save.
import { test, expect, centerUrl } from './server';
import { channelBox, changeLines, expectCenterPage, expectDonePage, listedTopics, topicItem } from './helpers';

test.use({ javaScriptEnabled: false });

test('center: untick Product updates, tick Newsletter (holly), save', async ({ page, server }) => {
  const center = centerUrl(server.holly);
  await page.goto(center);
  await expectCenterPage(page);
  await expect(page.getByRole('group', { name: 'Commercial' })).toBeVisible();

  // Demo data: holly has Newsletter off, Product updates and Events on (email), and a phone.
  await expect(channelBox(page, 'Newsletter', 'Email')).not.toBeChecked();
  await expect(channelBox(page, 'Product updates', 'Email')).toBeChecked();
  await expect(channelBox(page, 'Events', 'Email')).toBeChecked();
  for (const t of ['Newsletter', 'Product updates', 'Events']) {
    await expect(channelBox(page, t, 'Text message')).toBeVisible();
  }
  await expect(page.getByText('waiting for your confirmation')).toHaveCount(0);
  // The visible label is the channel; the accessible name carries the topic too.
  await expect(page.locator('label[for="f-t1-email"]')).toHaveText('Email');

  await channelBox(page, 'Product updates', 'Email').uncheck();
  await channelBox(page, 'Newsletter', 'Email').check();
  await page.getByRole('button', { name: 'Save preferences' }).click();

  await expectDonePage(page);
  // What the contact will no longer receive, then what waits for their confirmation.
  await expect(page.getByRole('heading', { level: 2, name: 'You will no longer receive:' })).toBeVisible();
  await expect(page.getByRole('heading', { level: 2, name: 'Waiting for your confirmation:' })).toBeVisible();
  await expect(page.getByRole('heading', { level: 2, name: 'You will now receive:' })).toHaveCount(0);
  expect(await changeLines(page)).toEqual(['Product updates by email', 'Newsletter by email']);

  // The center shows the new subscription as waiting for confirmation, only there.
  await page.goto(center);
  await expectCenterPage(page);
  await expect(topicItem(page, 'Newsletter')).toContainText('waiting for your confirmation');
  await expect(page.getByText('waiting for your confirmation')).toHaveCount(1);
  await expect(channelBox(page, 'Product updates', 'Email')).not.toBeChecked();
  await expect(channelBox(page, 'Events', 'Email')).toBeChecked();

  // A subscription waiting for confirmation is not something the contact receives yet.
  await page.goto(server.holly);
  expect(await listedTopics(page)).toEqual(['Events']);

  // Saving the same choices again changes nothing.
  await page.goto(center);
  await page.getByRole('button', { name: 'Save preferences' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Your preferences are updated');
  await expect(page.getByText('Nothing needed to change: your preferences were already as you chose.')).toBeVisible();
  expect(await changeLines(page)).toEqual([]);
});
