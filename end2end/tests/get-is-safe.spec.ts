// Test 5: GET and HEAD never change anything (mail scanners and link previews fetch links).
import type { Page } from '@playwright/test';
import { test, expect, centerUrl } from './server';
import { channelBox, listedTopics, type Channel } from './helpers';

const TOPICS = ['Newsletter', 'Product updates', 'Events'];

async function centerState(page: Page, link: string, channels: Channel[]) {
  await page.goto(centerUrl(link));
  const state: Record<string, boolean> = {};
  for (const t of TOPICS) {
    for (const c of channels) state[`${t} — ${c}`] = await channelBox(page, t, c).isChecked();
  }
  return state;
}

test('GET and HEAD of the unsubscribe page and the center change nothing', async ({ page, request, server }) => {
  const contacts = [
    { link: server.holly, channels: ['Email', 'Text message'] as Channel[], listed: ['Product updates', 'Events'] },
    { link: server.frank, channels: ['Email'] as Channel[], listed: ['Newsletter', 'Events'] },
  ];
  const before = [];
  for (const c of contacts) {
    await page.goto(c.link);
    const topics = await listedTopics(page);
    expect(topics).toEqual(c.listed);
    before.push({ topics, center: await centerState(page, c.link, c.channels) });
  }

  for (const c of contacts) {
    const one = new URL(c.link);
    one.searchParams.set('List-Unsubscribe', 'One-Click');
    const scannerHeaders = { 'Sec-Purpose': 'prefetch', Purpose: 'prefetch', 'User-Agent': 'Mozilla/5.0 (compatible; LinkScanner/1.0)' };
    for (let i = 0; i < 3; i++) {
      for (const url of [c.link, centerUrl(c.link)]) {
        const get = await request.get(url, { maxRedirects: 0 });
        expect(get.status(), `GET ${url}`).toBe(200);
        const head = await request.fetch(url, { method: 'HEAD', maxRedirects: 0 });
        expect(head.status(), `HEAD ${url}`).toBe(200);
        const scan = await request.get(url, { maxRedirects: 0, headers: scannerHeaders });
        expect(scan.status(), `prefetch GET ${url}`).toBe(200);
      }
      // The one-click field in a GET query string is not a one-click POST: the same page.
      const q = await request.get(one.toString(), { maxRedirects: 0 });
      expect(q.status(), `GET ${one}`).toBe(200);
      expect(await q.text(), `GET ${one}`).toContain('Unsubscribe from everything');
    }
  }

  for (const [i, c] of contacts.entries()) {
    await page.goto(c.link);
    expect(await listedTopics(page), `topics of ${c.link} after GET/HEAD`).toEqual(before[i].topics);
    expect(await centerState(page, c.link, c.channels), `center of ${c.link} after GET/HEAD`).toEqual(before[i].center);
  }
});
