// The API's reference page: readable at desktop and phone width, axe-clean, no script.
import * as path from 'node:path';
import { test, expect } from './server';
import { DESKTOP, PHONE, expectNoViolations } from './helpers';

const SHOTS = path.resolve(__dirname, '..', 'screenshots');

for (const [name, size] of [['desktop', DESKTOP], ['phone', PHONE]] as const) {
  test(`the API reference at ${name} width`, async ({ page, server }) => {
    await page.setViewportSize(size);
    await page.goto(`${server.base}/api/v1/docs`);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('prefcenter API');
    await expect(page.getByRole('heading', { name: 'POST /api/v1/decide', exact: true })).toBeVisible();
    await page.getByRole('link', { name: 'DecideBody' }).first().click();
    await expect(page.locator('#schema-DecideBody')).toBeInViewport();
    expect(await page.locator('script').count()).toBe(0);
    await expectNoViolations(page, `the API reference at ${name} width`);
    await page.screenshot({ path: path.join(SHOTS, `api-docs-${name}.png`) });
  });
}
