// Tests 1 and 2: unsubscribe from one topic on the unsubscribe page, check the done page,
// the unsubscribe page and the center, then undo.
import type { Page } from '@playwright/test';
import { test, expect, centerUrl } from './server';
import { channelBox, changeLines, expectCenterPage, expectDonePage, expectUnsubscribePage, listedTopics } from './helpers';

async function unsubscribeOneTopicAndUndo(
  page: Page,
  link: string,
  topic: string,
  before: { listed: string[]; notListed: string[] },
  /** An explicit opt-in: its undo asks for a double opt-in confirmation again. */
  optedIn: boolean,
) {
  // The unsubscribe page lists what the contact receives by email.
  await page.goto(link);
  await expectUnsubscribePage(page);
  const initial = await listedTopics(page);
  for (const t of before.listed) expect(initial, `initially listed on ${link}`).toContain(t);
  for (const t of before.notListed) expect(initial, `initially not listed on ${link}`).not.toContain(t);

  // The button of the topic is named for the topic (aria-label).
  const button = page.getByRole('button', { name: `Unsubscribe from ${topic}`, exact: true });
  await expect(button).toHaveCount(1);
  await expect(button).toHaveText('Unsubscribe');
  await button.click();

  // Done page: exactly this change, said as what the contact will no longer receive.
  // Soft, so that the rest of the flow still runs if it fails.
  await expectDonePage(page);
  await expect.soft(page.getByRole('heading', { level: 2, name: 'You will no longer receive:' })).toBeVisible();
  expect.soft(await changeLines(page), 'the done page names the change as the contact saw it').toEqual([`${topic} by email`]);
  const doneUrl = page.url();

  // The unsubscribe page no longer lists the topic; the others are still there.
  await page.goto(link);
  await expectUnsubscribePage(page);
  const after = await listedTopics(page);
  expect(after).not.toContain(topic);
  expect(after).toEqual(initial.filter((t) => t !== topic));

  // The center shows the topic's email box unticked, and the other email boxes as before.
  await page.goto(centerUrl(link));
  await expectCenterPage(page);
  await expect(channelBox(page, topic, 'Email')).not.toBeChecked();
  for (const t of after) await expect(channelBox(page, t, 'Email')).toBeChecked();

  // Undo from the done page restores it.
  await page.goto(doneUrl);
  await expectDonePage(page);
  await page.getByRole('button', { name: 'Undo this change' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Your change was undone');
  const undoneHeading = optedIn ? 'Waiting for your confirmation:' : 'You will now receive:';
  await expect.soft(page.getByRole('heading', { level: 2, name: undoneHeading })).toBeVisible();
  expect.soft(await changeLines(page), 'the undone page names the change back').toEqual([`${topic} by email`]);
  await expect(page.getByRole('button', { name: 'Undo this change' })).toHaveCount(0);

  // Undoing the same change a second time (a double submit) changes nothing more.
  const changeId = new URL(doneUrl).pathname.split('/').pop()!;
  const again = await page.request.post(`${link}/undo`, { form: { change: changeId, lang: 'en' }, maxRedirects: 0 });
  expect(again.status(), 'second undo').toBe(303);
  expect(again.headers()['location'], 'second undo').toMatch(/\/done\/unchanged(\?|$)/);

  await page.goto(link);
  if (optedIn) {
    // Not received again until the contact confirms from the email.
    expect(await listedTopics(page)).toEqual(initial.filter((t) => t !== topic));
    await page.goto(centerUrl(link));
    await expect(channelBox(page, topic, 'Email')).toBeChecked();
    await expect(page.locator('li.topic').filter({ hasText: topic }).locator('.pending')).toHaveCount(1);
  } else {
    expect(await listedTopics(page)).toEqual(initial);
    await page.goto(centerUrl(link));
    await expect(channelBox(page, topic, 'Email')).toBeChecked();
  }
}

test('unsubscribe holly from Product updates on the unsubscribe page, then undo', async ({ page, server }) => {
  await unsubscribeOneTopicAndUndo(page, server.holly, 'Product updates', {
    listed: ['Product updates', 'Events'],
    notListed: ['Newsletter'],
  }, true);
  // Unsubscribing from email does not touch the text-message channel (holly has a phone).
  await page.goto(centerUrl(server.holly));
  await expect(channelBox(page, 'Product updates', 'Text message')).toBeChecked();
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('unsubscribe frank from Events on the unsubscribe page, then undo', async ({ page, server }) => {
    await unsubscribeOneTopicAndUndo(page, server.frank, 'Events', {
      listed: ['Newsletter', 'Events'],
      notListed: ['Product updates'],
    }, false);
  });
});
