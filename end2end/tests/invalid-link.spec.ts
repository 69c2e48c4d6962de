// Test 7: wrong tokens. A well-formed unknown token and a malformed one get the same 404,
// so the answer tells nothing about which tokens exist or how they are built.
import { test, expect } from './server';
import { withoutNonces } from './helpers';

const UNKNOWN = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'; // 32 chars of the token alphabet
const MALFORMED = 'x';

test('GET /u and /p with an unknown or malformed token: same 404 page', async ({ page, request, server }) => {
  const seen: { url: string; h1: string; main: string; body: string }[] = [];
  for (const prefix of ['/u/', '/p/']) {
    for (const token of [UNKNOWN, MALFORMED]) {
      const url = `${server.base}${prefix}${token}`;
      const res = await page.goto(url);
      expect(res!.status(), `GET ${url}`).toBe(404);
      await expect(page.getByRole('heading', { level: 1 })).toHaveText('This link is not valid');
      const h1 = await page.getByRole('heading', { level: 1 }).innerText();
      const main = await page.locator('main').innerText();
      expect(main).toContain('The link you followed is not valid or has expired.');
      // Nothing of the contact pages leaks onto it.
      await expect(page.getByRole('button')).toHaveCount(0);
      await expect(page.getByRole('checkbox')).toHaveCount(0);
      const raw = await request.get(url, { maxRedirects: 0 });
      expect(raw.status()).toBe(404);
      seen.push({ url, h1, main, body: withoutNonces(await raw.text()) });
    }
  }
  for (const s of seen.slice(1)) {
    expect(s.h1, `h1 of ${s.url} vs ${seen[0].url}`).toBe(seen[0].h1);
    expect(s.main, `main text of ${s.url} vs ${seen[0].url}`).toBe(seen[0].main);
    expect(s.body, `whole body (nonce aside) of ${s.url} vs ${seen[0].url}`).toBe(seen[0].body);
  }
});

test('one-click POST and form POST with an unknown or malformed token: same 404', async ({ playwright, server }) => {
  const mailer = await playwright.request.newContext({ storageState: { cookies: [], origins: [] } });
  try {
    const bodies: Record<string, string> = {};
    for (const token of [UNKNOWN, MALFORMED]) {
      const url = `${server.base}/u/${token}`;
      const oneClick = await mailer.post(url, { form: { 'List-Unsubscribe': 'One-Click' }, maxRedirects: 0 });
      expect(oneClick.status(), `one-click POST ${url}`).toBe(404);
      const text = withoutNonces(await oneClick.text());
      expect(text).toContain('This link is not valid');
      bodies[`one-click ${token}`] = text;

      const multi = await mailer.post(url, { multipart: { 'List-Unsubscribe': 'One-Click' }, maxRedirects: 0 });
      expect(multi.status(), `multipart one-click POST ${url}`).toBe(404);
      expect(withoutNonces(await multi.text())).toBe(text);

      const form = await mailer.post(url, {
        form: { form_version: '1', lang: 'en', action: 'unsubscribe_all' },
        maxRedirects: 0,
      });
      expect(form.status(), `form POST ${url}`).toBe(404);
      bodies[`form ${token}`] = withoutNonces(await form.text());
    }
    expect(bodies[`one-click ${MALFORMED}`]).toBe(bodies[`one-click ${UNKNOWN}`]);
    expect(bodies[`form ${MALFORMED}`]).toBe(bodies[`form ${UNKNOWN}`]);
  } finally {
    await mailer.dispose();
  }
});

test('the invalid-link page is the same for a GET and a one-click POST', async ({ request, server }) => {
  const url = `${server.base}/u/${UNKNOWN}`;
  const get = await request.get(url);
  const post = await request.post(url, { form: { 'List-Unsubscribe': 'One-Click' }, maxRedirects: 0 });
  expect(get.status()).toBe(404);
  expect(post.status()).toBe(404);
  const h1 = (html: string) => html.match(/<h1[^>]*>([^<]*)<\/h1>/)?.[1];
  expect(h1(await post.text())).toBe(h1(await get.text()));
});

test("one contact's link cannot show or undo another contact's change", async ({ page, request, server }) => {
  // A change of holly's (form POST, as the unsubscribe page sends it).
  const post = await request.post(server.holly, {
    form: { form_version: '1', lang: 'en', action: 'unsubscribe', topic: 't2.email' },
    maxRedirects: 0,
  });
  expect(post.status()).toBe(303);
  const location = post.headers()['location'];
  const change = location.match(/\/done\/([^/?]+)/)?.[1];
  expect(change, `change id in ${location}`).toBeTruthy();

  // Holly's own done page works.
  await page.goto(new URL(location, server.base).toString());
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Your preferences are updated');

  // Frank's token with holly's change: the invalid-link page (404), nothing of holly's
  // change, no undo button.
  const frankDone = `${server.frank}/done/${change}`;
  const res = await page.goto(frankDone);
  expect(res!.status(), `GET ${frankDone}`).toBe(404);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('This link is not valid');
  await expect(page.getByText('Product updates')).toHaveCount(0);
  await expect(page.locator('ul.changes > li')).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Undo this change' })).toHaveCount(0);

  // Frank's token cannot undo holly's change.
  const undo = await request.post(`${server.frank}/undo`, { form: { change: change!, lang: 'en' }, maxRedirects: 0 });
  expect(undo.status(), 'undo with the wrong contact').toBe(400);
  expect(await undo.text()).toContain('We could not read that request');
  await page.goto(server.holly);
  await expect(page.getByRole('button', { name: 'Unsubscribe from Product updates' })).toHaveCount(0);

  // An unknown change id for the right contact: the invalid-link page, nothing to undo.
  const bogus = await page.goto(`${server.holly}/done/AAAAAAAAAAAAAAAA`);
  expect(bogus!.status()).toBe(404);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('This link is not valid');
  await expect(page.locator('ul.changes > li')).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Undo this change' })).toHaveCount(0);
});
