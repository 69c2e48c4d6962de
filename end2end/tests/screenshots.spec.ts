// Test 11: full-page screenshots of the pages at desktop and phone sizes, for people to look
// at (end2end/screenshots/, not compared to anything).
import * as path from 'node:path';
import { test, expect, centerUrl } from './server';
import { DESKTOP, PHONE } from './helpers';

const DIR = path.resolve(__dirname, '..', 'screenshots');

for (const size of [
  { name: 'desktop', viewport: DESKTOP, contact: 'holly' as const },
  { name: 'phone', viewport: PHONE, contact: 'frank' as const },
]) {
  test.describe(`${size.name} (${size.viewport.width}x${size.viewport.height})`, () => {
    test.use({ viewport: size.viewport });

    test('screenshots', async ({ page, server }) => {
      const link = server[size.contact];
      const shot = async (name: string) => {
        const file = path.join(DIR, `${name}-${size.name}.png`);
        await page.screenshot({ path: file, fullPage: true });
        // The page is not wider than the viewport (no sideways scrolling on a phone).
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        expect(overflow, `${name} scrolls sideways at ${size.name} size`).toBeLessThanOrEqual(0);
      };

      await page.goto(link);
      await expect(page.getByRole('heading', { level: 1 })).toHaveText('Unsubscribe');
      await shot('unsubscribe');

      await page.goto(centerUrl(link));
      await expect(page.getByRole('heading', { level: 1 })).toHaveText('Your communication preferences');
      await shot('center');

      await page.goto(link);
      await page.locator('li.topic').first().getByRole('button', { name: /^Unsubscribe from / }).click();
      await expect(page.getByRole('heading', { level: 1 })).toHaveText('Your preferences are updated');
      await shot('done');

      await page.getByRole('button', { name: 'Undo this change' }).click();
      await expect(page.getByRole('heading', { level: 1 })).toHaveText('Your change was undone');
      await shot('undone');

      // The center with a subscription waiting for confirmation.
      await page.goto(centerUrl(link));
      const off = page.locator('input[type="checkbox"][aria-label$="— Email"]:not(:checked)').first();
      await off.check();
      await page.getByRole('button', { name: 'Save preferences' }).click();
      await page.goto(centerUrl(link));
      await shot('center-pending');

      await page.goto(`${server.base}/u/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`);
      await shot('invalid');
    });
  });
}
