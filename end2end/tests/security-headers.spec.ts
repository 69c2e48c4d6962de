// Test 10: security headers on the contact pages, and a CSP nonce that the page really uses.
import { test, expect, centerUrl } from './server';

function nonceOf(csp: string): string | undefined {
  return csp.match(/'nonce-([A-Za-z0-9_+/=-]+)'/)?.[1];
}

for (const which of ['unsubscribe page', 'subscription center', 'done page', 'invalid-link page'] as const) {
  test(`security headers: ${which}`, async ({ page, server }) => {
    const cspErrors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') cspErrors.push(m.text());
    });

    let url: string;
    if (which === 'unsubscribe page') url = server.holly;
    else if (which === 'subscription center') url = centerUrl(server.holly);
    else if (which === 'invalid-link page') url = `${server.base}/u/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`;
    else {
      await page.goto(server.frank);
      await page.locator('li.topic').first().getByRole('button', { name: /^Unsubscribe from / }).click();
      await expect(page.getByRole('heading', { level: 1 })).toHaveText('Your preferences are updated');
      url = page.url();
    }

    const res = await page.goto(url);
    const h = res!.headers();
    const csp = h['content-security-policy'] ?? '';
    expect(csp, 'content-security-policy').toContain("frame-ancestors 'none'");
    const nonce = nonceOf(csp);
    expect(nonce, `a nonce in the CSP: ${csp}`).toBeTruthy();
    expect(nonce!.length, 'nonce of at least 128 bits (base64: 22 chars)').toBeGreaterThanOrEqual(22);
    expect(csp).not.toContain("'unsafe-inline'");
    expect(csp).not.toContain("'unsafe-eval'");
    expect(h['referrer-policy']).toBe('no-referrer');
    expect(h['cache-control']).toContain('no-store');
    expect(h['x-content-type-options']).toBe('nosniff');

    // Every inline <script>/<style> carries this response's nonce.
    const html = await res!.text();
    const inline = [...html.matchAll(/<(script|style)\b([^>]*)>/g)];
    for (const m of inline) {
      if (/\bsrc=/.test(m[2])) continue;
      expect(m[2], `inline <${m[1]}> carries the CSP nonce`).toContain(`nonce="${nonce}"`);
    }
    // The browser applied the page's styles without a CSP complaint.
    expect(cspErrors.filter((e) => /Content Security Policy/i.test(e))).toEqual([]);

    // A new nonce on every response.
    const again = await page.request.get(url, { maxRedirects: 0 });
    expect(nonceOf(again.headers()['content-security-policy'] ?? '')).not.toBe(nonce);
  });
}

test('the stylesheet and one-click answer carry nosniff too', async ({ request, server }) => {
  const css = await request.get(`${server.base}/pkg/prefcenter.css`);
  expect(css.status()).toBe(200);
  expect(css.headers()['content-type']).toContain('text/css');
  expect(css.headers()['x-content-type-options']).toBe('nosniff');

  const oneClick = await request.post(server.frank, { form: { 'List-Unsubscribe': 'One-Click' }, maxRedirects: 0 });
  expect(oneClick.status()).toBe(200);
  expect(oneClick.headers()['x-content-type-options']).toBe('nosniff');
  expect(oneClick.headers()['cache-control']).toContain('no-store');
  expect(oneClick.headers()['referrer-policy']).toBe('no-referrer');
});
