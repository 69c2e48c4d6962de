// Languages in a real browser: Lena (no stored language) gets her browser's German, the
// German names an admin gave a topic, and `?lang=ar` shows the page in Arabic, right to left,
// mirrored and axe-clean, at desktop and phone width. The expected words come from the
// translation files themselves, so the test checks the wiring, not a copy of the texts.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test, expect, centerUrl } from './server';
import { DESKTOP, PHONE, expectNoViolations } from './helpers';

const SHOTS = path.resolve(__dirname, '..', 'screenshots');

function message(lang: string, id: string): string {
  const file = fs.readFileSync(path.resolve(__dirname, '..', '..', 'src', 'i18n', `${lang}.ftl`), 'utf8');
  const m = file.match(new RegExp(`^${id} = (.*)$`, 'm'));
  if (!m) throw new Error(`${id} not in ${lang}.ftl`);
  return m[1].trim();
}

test.describe('German from the browser', () => {
  test.use({ locale: 'de-DE', viewport: DESKTOP });

  test('a contact without a stored language gets the browser\'s', async ({ page, server }) => {
    const lena = server.links['lena@contoso.com'];
    expect(lena, 'the demo prints Lena\'s link').toBeTruthy();
    await page.goto(centerUrl(lena));
    await expect(page.locator('html')).toHaveAttribute('lang', 'de');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(message('de', 'center_title'));
    await expect(page.getByRole('button', { name: message('de', 'save') })).toBeVisible();
    await expectNoViolations(page, 'the subscription center in German');
    await page.screenshot({ path: path.join(SHOTS, 'center-de-desktop.png'), fullPage: true });
    // Holly's stored English wins over the browser's German.
    await page.goto(centerUrl(server.holly));
    await expect(page.locator('html')).toHaveAttribute('lang', 'en');
  });
});

for (const size of [
  { name: 'desktop', viewport: DESKTOP },
  { name: 'phone', viewport: PHONE },
]) {
  test.describe(`Arabic at ${size.name} width`, () => {
    test.use({ viewport: size.viewport });

    test('right to left, mirrored, axe-clean', async ({ page, server }) => {
      const url = new URL(centerUrl(server.links['lena@contoso.com']));
      url.searchParams.set('lang', 'ar');
      await page.goto(url.toString());
      await expect(page.locator('html')).toHaveAttribute('dir', 'rtl');
      await expect(page.locator('html')).toHaveAttribute('lang', 'ar');
      await expect(page.getByRole('heading', { level: 1 })).toHaveText(message('ar', 'center_title'));
      expect(await page.evaluate(() => getComputedStyle(document.body).direction)).toBe('rtl');
      // Mirrored: the heading's words start at the card's right edge, not its left.
      const gaps = await page.evaluate(() => {
        const h1 = document.querySelector('h1')!;
        const range = document.createRange();
        range.selectNodeContents(h1);
        const text = range.getBoundingClientRect();
        const card = h1.closest('section')!.getBoundingClientRect();
        return { left: text.left - card.left, right: card.right - text.right };
      });
      expect(gaps.right, 'the heading starts at the right edge').toBeLessThan(gaps.left);
      await expectNoViolations(page, `the subscription center in Arabic at ${size.name} width`);
      await page.screenshot({ path: path.join(SHOTS, `center-ar-${size.name}.png`), fullPage: true });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      // The unsubscribe page too.
      const u = new URL(server.links['lena@contoso.com']);
      u.searchParams.set('lang', 'ar');
      await page.goto(u.toString());
      await expect(page.getByRole('heading', { level: 1 })).toHaveText(message('ar', 'unsubscribe_title'));
      await expectNoViolations(page, `the unsubscribe page in Arabic at ${size.name} width`);
    });
  });
}
