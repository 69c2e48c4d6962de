// Test 8: axe-core (WCAG 2.0/2.1 A and AA) on every page, at desktop and phone sizes.
import { test, expect, centerUrl, type Demo } from './server';
import { DESKTOP, PHONE, expectNoViolations } from './helpers';

const sizes = [
  { name: 'desktop', viewport: DESKTOP, contact: 'holly' as const },
  { name: 'phone', viewport: PHONE, contact: 'frank' as const },
];

for (const size of sizes) {
  test.describe(`at ${size.name} size (${size.viewport.width}x${size.viewport.height})`, () => {
    test.use({ viewport: size.viewport });
    const link = (s: Demo) => s[size.contact];

    test('unsubscribe page', async ({ page, server }) => {
      await page.goto(link(server));
      await expect(page.getByRole('heading', { level: 1 })).toHaveText('Unsubscribe');
      await expectNoViolations(page, 'the unsubscribe page');
    });

    test('subscription center', async ({ page, server }) => {
      await page.goto(centerUrl(link(server)));
      await expect(page.getByRole('heading', { level: 1 })).toHaveText('Your communication preferences');
      await expectNoViolations(page, 'the subscription center');
    });

    test('done page, and the page after undo', async ({ page, server }) => {
      await page.goto(link(server));
      await page.locator('li.topic').first().getByRole('button', { name: /^Unsubscribe from / }).click();
      await expect(page.getByRole('heading', { level: 1 })).toHaveText('Your preferences are updated');
      await expectNoViolations(page, 'the done page');
      // Undo, which also puts the demo data back for the other tests of this file.
      await page.getByRole('button', { name: 'Undo this change' }).click();
      await expect(page.getByRole('heading', { level: 1 })).toHaveText('Your change was undone');
      await expectNoViolations(page, 'the page after undo');
    });

    test('invalid-link page', async ({ page, server }) => {
      const res = await page.goto(`${server.base}/u/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`);
      expect(res!.status()).toBe(404);
      await expectNoViolations(page, 'the invalid-link page');
    });
  });
}
