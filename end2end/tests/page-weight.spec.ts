// Test 9: the pages are light: < 100 KB in all, no JavaScript or WebAssembly fetched.
import type { Page } from '@playwright/test';
import { test, expect, centerUrl } from './server';

const LIMIT = 100 * 1024;

async function weigh(page: Page, url: string) {
  const responses: { url: string; bytes: number; type: string }[] = [];
  const pending: Promise<void>[] = [];
  const requested: { url: string; type: string }[] = [];
  page.on('request', (r) => requested.push({ url: r.url(), type: r.resourceType() }));
  page.on('response', (r) => {
    pending.push(
      r
        .body()
        .then((b) => void responses.push({ url: r.url(), bytes: b.length, type: r.request().resourceType() }))
        .catch(() => void responses.push({ url: r.url(), bytes: 0, type: r.request().resourceType() })),
    );
  });
  const res = await page.goto(url, { waitUntil: 'networkidle' });
  expect(res!.status()).toBe(200);
  await Promise.all(pending);
  return { responses, requested, total: responses.reduce((n, r) => n + r.bytes, 0) };
}

for (const which of ['unsubscribe page', 'subscription center'] as const) {
  test(`${which}: under 100 KB, no .js or .wasm`, async ({ page, server }) => {
    const url = which === 'unsubscribe page' ? server.holly : centerUrl(server.holly);
    const { responses, requested, total } = await weigh(page, url);
    const list = responses.map((r) => `  ${r.bytes} B  ${r.type}  ${r.url}`).join('\n');
    console.log(`${which}: ${total} bytes in ${responses.length} responses\n${list}`);

    expect(responses.length, 'at least the document was weighed').toBeGreaterThan(0);
    expect(responses.some((r) => r.type === 'document' && r.bytes > 1000)).toBe(true);
    expect(total, `total bytes of ${which}:\n${list}`).toBeLessThan(LIMIT);

    const code = requested.filter((r) => /\.(m?js|wasm)(\?|#|$)/i.test(new URL(r.url).pathname) || r.type === 'script');
    expect(code, 'no script or WebAssembly requests').toEqual([]);
  });
}
