import AxeBuilder from '@axe-core/playwright';
import type { Locator, Page } from '@playwright/test';
import { expect } from './server';

export type Channel = 'Email' | 'Text message';

/** The topic names under "You currently receive" on the unsubscribe page, in page order. */
export async function listedTopics(page: Page): Promise<string[]> {
  const names = await page.locator('li.topic span.topic-name').allInnerTexts();
  return names.map((n) => n.trim());
}

/** The checkbox of one topic and channel in the subscription center. */
export function channelBox(page: Page, topic: string, channel: Channel): Locator {
  return page.getByRole('checkbox', { name: `${topic} — ${channel}`, exact: true });
}

/** The list item of one topic (unsubscribe page or center). */
export function topicItem(page: Page, topic: string): Locator {
  return page.locator('li.topic').filter({
    has: page.locator('span.topic-name', { hasText: new RegExp(`^\\s*${escapeRe(topic)}\\s*$`) }),
  });
}

/** The lines of the done page's `ul.changes`. */
export async function changeLines(page: Page): Promise<string[]> {
  return (await page.locator('ul.changes > li').allInnerTexts()).map((l) => l.trim());
}

export async function expectUnsubscribePage(page: Page) {
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Unsubscribe');
}

export async function expectCenterPage(page: Page) {
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Your communication preferences');
}

export async function expectDonePage(page: Page) {
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Your preferences are updated');
  expect(new URL(page.url()).pathname).toMatch(/^\/u\/[^/]+\/done\/[^/]+$/);
}

/** Removes the per-response CSP nonce so that two bodies can be compared. */
export function withoutNonces(html: string): string {
  return html.replace(/nonce-[A-Za-z0-9_+/=-]+/g, 'nonce-X').replace(/nonce="[^"]*"/g, 'nonce="X"');
}

export function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export const PHONE = { width: 390, height: 844 } as const;
export const DESKTOP = { width: 1280, height: 720 } as const;

const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

/** axe-core (WCAG 2.0/2.1 A and AA) finds nothing on the page as it is now. */
export async function expectNoViolations(page: Page, what: string, exclude?: string) {
  // `exclude`: parts axe cannot enter (the designer's sandboxed previews, which are contact
  // pages checked on their own).
  const builder = new AxeBuilder({ page }).withTags(TAGS);
  const results = await (exclude ? builder.exclude(exclude) : builder).analyze();
  const report = results.violations
    .map(
      (v) =>
        `- ${v.id} (${v.impact}): ${v.help}\n  ${v.helpUrl}\n` +
        v.nodes.map((n) => `    at ${n.target.join(' ')}\n      ${n.failureSummary?.replace(/\n/g, '\n      ')}`).join('\n'),
    )
    .join('\n');
  expect(results.violations, `axe violations on ${what} (${page.url()}):\n${report}`).toEqual([]);
  // A guard against a vacuous pass: axe did look at the page.
  expect(results.passes.length, `axe ran rules on ${what}`).toBeGreaterThan(5);
}
