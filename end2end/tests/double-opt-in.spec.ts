// Double opt-in in a real browser: a security gateway that opens the confirm link (JavaScript
// on, waiting) confirms nothing; the person's click on Confirm does. With and without
// JavaScript, and axe (WCAG 2.0/2.1 A and AA) on the confirm page and the sign-up form.
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { test, expect, centerUrl, confirmLinks, nextConfirmLink, type Demo } from './server';
import { channelBox, DESKTOP, PHONE } from './helpers';

const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

/**
 * Runs axe on what the page shows now. axe is a script, so for a page rendered with JavaScript
 * off, the exact HTML it rendered is served again (same URL, same stylesheet) to a page where
 * axe can run.
 */
async function expectNoViolations(page: Page, what: string, jsOn: boolean) {
  if (jsOn) return axeOn(page, what);
  const html = await page.content();
  const url = page.url();
  const browser = page.context().browser()!;
  const ctx = await browser.newContext({ javaScriptEnabled: true, viewport: page.viewportSize() });
  const copy = await ctx.newPage();
  await copy.route(url, (route) => route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html }));
  await copy.goto(url);
  try {
    await axeOn(copy, `${what} (as rendered with JavaScript off)`);
  } finally {
    await ctx.close();
  }
}

async function axeOn(page: Page, what: string) {
  const results = await new AxeBuilder({ page }).withTags(TAGS).analyze();
  const report = results.violations
    .map((v) => `- ${v.id} (${v.impact}): ${v.help}\n` + v.nodes.map((n) => `    at ${n.target.join(' ')}`).join('\n'))
    .join('\n');
  expect(results.violations, `axe violations on ${what} (${page.url()}):\n${report}`).toEqual([]);
  expect(results.passes.length, `axe ran rules on ${what}`).toBeGreaterThan(5);
}

/** Ticks a topic on the contact's subscription center and saves: it goes pending. */
async function askFor(page: Page, server: Demo, who: 'holly' | 'frank', topic: string): Promise<string> {
  const seen = confirmLinks(server).length;
  await page.goto(centerUrl(server[who]));
  await channelBox(page, topic, 'Email').check();
  await page.getByRole('button', { name: 'Save preferences' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Your preferences are updated');
  await expect(page.locator('ul.changes')).toContainText(topic);
  return nextConfirmLink(server, seen);
}

/** Whether the center shows the topic as waiting for confirmation. */
async function pendingOnCenter(page: Page, server: Demo, who: 'holly' | 'frank', topic: string) {
  await page.goto(centerUrl(server[who]));
  const item = page.locator('li.topic').filter({ hasText: topic });
  return (await item.locator('.pending').count()) > 0;
}

for (const js of [true, false]) {
  test.describe(`with JavaScript ${js ? 'on' : 'off'}`, () => {
    test.use({ javaScriptEnabled: js });
    const who = js ? ('holly' as const) : ('frank' as const);
    const topic = js ? 'Newsletter' : 'Product updates';

    test('opening the confirm link confirms nothing; the Confirm button does', async ({ page, browser, server }) => {
      const link = await askFor(page, server, who, topic);
      expect(await pendingOnCenter(page, server, who, topic)).toBe(true);

      // A security gateway opens the link in a browser of its own and waits.
      const scanner = await browser.newContext({ javaScriptEnabled: true });
      const scan = await scanner.newPage();
      const res = await scan.goto(link);
      expect(res!.status()).toBe(200);
      await scan.waitForLoadState('networkidle');
      await scan.waitForTimeout(1500);
      await expect(scan.getByRole('heading', { level: 1 })).toHaveText('Confirm your subscription');
      await scanner.close();
      expect(await pendingOnCenter(page, server, who, topic), 'still waiting after the scan').toBe(true);

      // The person presses Confirm.
      await page.goto(link);
      await expect(page.getByRole('checkbox', { name: `${topic} (email)` })).toBeChecked();
      await page.getByRole('button', { name: 'Confirm' }).click();
      await expect(page.getByRole('heading', { level: 1 })).toHaveText('Thank you, your subscription is confirmed');
      await expect(page.locator('ul.changes')).toContainText(`${topic} (email)`);
      expect(await pendingOnCenter(page, server, who, topic)).toBe(false);
      await expect(channelBox(page, topic, 'Email')).toBeChecked();

      // The link again: already confirmed, with 200.
      const again = await page.goto(link);
      expect(again!.status()).toBe(200);
      await expect(page.getByRole('heading', { level: 1 })).toHaveText('This subscription is already confirmed');
    });

    for (const size of [
      { name: 'desktop', viewport: DESKTOP },
      { name: 'phone', viewport: PHONE },
    ]) {
      test(`confirm page and sign-up form pass axe at ${size.name} size`, async ({ page, server }) => {
        await page.setViewportSize(size.viewport);
        // A new address signs up: a fresh, open confirm page.
        const seen = confirmLinks(server).length;
        await page.goto(`${server.base}/s/contoso`);
        await page.getByLabel('Email address').fill(`axe-${js ? 'js' : 'nojs'}-${size.name}@example.com`);
        await page.getByRole('checkbox', { name: 'Newsletter' }).check();
        await page.getByRole('button', { name: 'Subscribe' }).click();
        await expect(page.getByRole('heading', { level: 1 })).toHaveText('Check your inbox');
        await expectNoViolations(page, 'the sign-up confirmation', js);
        const link = await nextConfirmLink(server, seen);
        await page.goto(link);
        await expect(page.getByRole('heading', { level: 1 })).toHaveText('Confirm your subscription');
        await expectNoViolations(page, 'the confirm page', js);

        await page.goto(`${server.base}/s/contoso`);
        await expect(page.getByRole('heading', { level: 1 })).toHaveText('Subscribe');
        await expectNoViolations(page, 'the sign-up form', js);
        await page.getByRole('button', { name: 'Subscribe' }).click();
        await expect(page.getByRole('alert')).toContainText('Enter an email address');
        await expectNoViolations(page, 'the sign-up form with an error', js);
      });
    }

    test('signing up through the form sends a confirmation link that works', async ({ page, server }) => {
      const seen = confirmLinks(server).length;
      await page.goto(`${server.base}/s/contoso`);
      await page.getByLabel('Email address').fill(js ? 'ada@example.com' : 'grace@example.com');
      await page.getByRole('checkbox', { name: 'Events' }).check();
      await page.getByRole('button', { name: 'Subscribe' }).click();
      await expect(page.getByRole('heading', { level: 1 })).toHaveText('Check your inbox');
      const link = await nextConfirmLink(server, seen);
      await page.goto(link);
      await page.getByRole('button', { name: 'Confirm' }).click();
      await expect(page.getByRole('heading', { level: 1 })).toHaveText('Thank you, your subscription is confirmed');
      await expect(page.locator('ul.changes')).toContainText('Events (email)');
    });
  });
}
